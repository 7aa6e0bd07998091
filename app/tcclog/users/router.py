from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from tcclog.core.deps import (
    CacheDep,
    CurrentUser,
    DatabaseDep,
    DbDep,
    SettingsDep,
    StorageDep,
    limit_by_client_ip,
)
from tcclog.users import service
from tcclog.users.schemas import Export, Token, UserCreate, UserPublic

auth_router = APIRouter(prefix="/auth", tags=["auth"], dependencies=[Depends(limit_by_client_ip)])
me_router = APIRouter(prefix="/me", tags=["me"])


@auth_router.post("/register", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
async def register(body: UserCreate, conn: DbDep) -> UserPublic:
    return await service.register(conn, body)


@auth_router.post("/token", response_model=Token)
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], conn: DbDep,
                settings: SettingsDep) -> Token:
    return await service.login(conn, settings, form.username, form.password)


@me_router.get("", response_model=UserPublic)
async def read_me(user: CurrentUser, conn: DbDep) -> UserPublic:
    return await service.me(conn, user.id)


@me_router.get("/export", response_model=Export)
async def export_me(user: CurrentUser, conn: DbDep) -> Export:
    return await service.export(conn, user.id)


@me_router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(user: CurrentUser, db: DatabaseDep, storage: StorageDep,
                    cache: CacheDep) -> Response:
    await service.erase(db, storage, cache, user.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
