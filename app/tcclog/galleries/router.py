from __future__ import annotations

from fastapi import APIRouter, Response, status

from tcclog.core.deps import CacheDep, CurrentUser, DbDep, ReadDbDep
from tcclog.core.types import Cursor, IdPath, Limit
from tcclog.galleries import service
from tcclog.galleries.schemas import GalleryCreate, GalleryList, GalleryPublic, GalleryUpdate

router = APIRouter(prefix="/galleries", tags=["galleries"])


@router.post("", response_model=GalleryPublic, status_code=status.HTTP_201_CREATED)
async def create_gallery(body: GalleryCreate, user: CurrentUser, conn: DbDep,
                      cache: CacheDep) -> GalleryPublic:
    return await service.create(conn, cache, user.id, body)


@router.get("", response_model=GalleryList)
async def list_galleries(user: CurrentUser, conn: ReadDbDep, limit: Limit = 50,
                         cursor: Cursor = None) -> GalleryList:
    return await service.list_galleries(conn, user.id, limit, cursor)


@router.get("/{gallery_id}", response_model=GalleryPublic)
async def read_gallery(gallery_id: IdPath, user: CurrentUser, conn: ReadDbDep) -> GalleryPublic:
    return await service.get_owned_or_404(conn, user.id, gallery_id)


@router.patch("/{gallery_id}", response_model=GalleryPublic)
async def update_gallery(gallery_id: IdPath, body: GalleryUpdate, user: CurrentUser, conn: DbDep,
                      cache: CacheDep) -> GalleryPublic:
    return await service.update(conn, cache, user.id, gallery_id, body)


@router.delete("/{gallery_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_gallery(gallery_id: IdPath, user: CurrentUser, conn: DbDep,
                      cache: CacheDep) -> Response:
    await service.delete(conn, cache, user.id, gallery_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
