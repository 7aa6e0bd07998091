from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from tcclog.core.deps import CacheDep, CurrentUser, DbDep, ReadDbDep, SettingsDep, StorageDep
from tcclog.core.types import Cursor, IdPath, Limit
from tcclog.files import service
from tcclog.files.schemas import FileList, FilePublic

router = APIRouter(prefix="/files", tags=["files"])


@router.post("", response_model=FilePublic, status_code=status.HTTP_201_CREATED)
async def upload_file(file: UploadFile, user: CurrentUser, conn: DbDep, storage: StorageDep,
                      cache: CacheDep, settings: SettingsDep) -> FilePublic:
    return await service.upload(conn, storage, cache, user.id, file.file, file.filename,
                                file.content_type, settings.max_upload_bytes)


@router.get("", response_model=FileList)
async def list_files(user: CurrentUser, conn: ReadDbDep, limit: Limit = 50,
                     cursor: Cursor = None) -> FileList:
    return await service.list_files(conn, user.id, limit, cursor)


@router.get("/{file_id}", response_model=FilePublic)
async def read_file(file_id: IdPath, user: CurrentUser, conn: ReadDbDep) -> FilePublic:
    return await service.get_owned_or_404(conn, user.id, file_id)


@router.get("/{file_id}/content", response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
async def download_file(file_id: IdPath, user: CurrentUser, conn: ReadDbDep,
                        storage: StorageDep) -> StreamingResponse:
    meta, chunks = await service.open_content(conn, storage, user.id, file_id)
    disposition = f"attachment; filename*=UTF-8''{quote(meta.filename)}"
    return StreamingResponse(chunks, media_type=meta.content_type,
                             headers={"Content-Disposition": disposition,
                                      "Content-Length": str(meta.size)})


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(file_id: IdPath, user: CurrentUser, conn: DbDep, storage: StorageDep,
                      cache: CacheDep) -> Response:
    await service.delete(conn, storage, cache, user.id, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
