from __future__ import annotations

from fastapi import APIRouter, Response, status

from tcclog.core.deps import CacheDep, CurrentUser, DbDep, ReadDbDep
from tcclog.core.types import Cursor, IdPath, Limit
from tcclog.tags import service
from tcclog.tags.schemas import TagCreate, TagList, TagPublic, TagUpdate

router = APIRouter(prefix="/tags", tags=["tags"])


@router.post("", response_model=TagPublic, status_code=status.HTTP_201_CREATED)
async def create_tag(body: TagCreate, user: CurrentUser, conn: DbDep,
                     cache: CacheDep) -> TagPublic:
    return await service.create(conn, cache, user.id, body)


@router.get("", response_model=TagList)
async def list_tags(user: CurrentUser, conn: ReadDbDep, limit: Limit = 50,
                    cursor: Cursor = None) -> TagList:
    return await service.list_tags(conn, user.id, limit, cursor)


@router.get("/{tag_id}", response_model=TagPublic)
async def read_tag(tag_id: IdPath, user: CurrentUser, conn: ReadDbDep) -> TagPublic:
    return await service.get_owned_or_404(conn, user.id, tag_id)


@router.patch("/{tag_id}", response_model=TagPublic)
async def update_tag(tag_id: IdPath, body: TagUpdate, user: CurrentUser, conn: DbDep,
                     cache: CacheDep) -> TagPublic:
    return await service.update(conn, cache, user.id, tag_id, body)


@router.delete("/{tag_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_tag(tag_id: IdPath, user: CurrentUser, conn: DbDep, cache: CacheDep) -> Response:
    await service.delete(conn, cache, user.id, tag_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
