from __future__ import annotations

from fastapi import APIRouter, Response, status

from tcclog.core.deps import CacheDep, CurrentUser, DbDep, ReadDbDep
from tcclog.core.types import Cursor, IdPath, Limit, OptionalIdQuery
from tcclog.links import service
from tcclog.links.schemas import LinkCreate, LinkList, LinkPublic, LinkUpdate

router = APIRouter(prefix="/links", tags=["links"])


@router.post("", response_model=LinkPublic, status_code=status.HTTP_201_CREATED)
async def create_link(body: LinkCreate, user: CurrentUser, conn: DbDep,
                      cache: CacheDep) -> LinkPublic:
    return await service.create(conn, cache, user.id, body)


@router.get("", response_model=LinkList)
async def list_links(user: CurrentUser, conn: ReadDbDep, limit: Limit = 50,
                     cursor: Cursor = None, entry_id: OptionalIdQuery = None) -> LinkList:
    return await service.list_links(conn, user.id, limit, cursor, entry_id)


@router.get("/{link_id}", response_model=LinkPublic)
async def read_link(link_id: IdPath, user: CurrentUser, conn: ReadDbDep) -> LinkPublic:
    return await service.get_owned_or_404(conn, user.id, link_id)


@router.patch("/{link_id}", response_model=LinkPublic)
async def update_link(link_id: IdPath, body: LinkUpdate, user: CurrentUser, conn: DbDep,
                      cache: CacheDep) -> LinkPublic:
    return await service.update(conn, cache, user.id, link_id, body)


@router.delete("/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_link(link_id: IdPath, user: CurrentUser, conn: DbDep,
                      cache: CacheDep) -> Response:
    await service.delete(conn, cache, user.id, link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
