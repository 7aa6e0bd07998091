from __future__ import annotations

from fastapi import APIRouter, Response, status

from tcclog.core.deps import CacheDep, CurrentUser, DatabaseDep, DbDep, ReadDbDep
from tcclog.core.types import Cursor, IdPath, Limit, OptionalIdQuery, SearchText
from tcclog.entries import service
from tcclog.entries.schemas import EntryCreate, EntryList, EntryPublic, EntryUpdate, SearchResults

router = APIRouter(prefix="/entries", tags=["entries"])


@router.post("", response_model=EntryPublic, status_code=status.HTTP_201_CREATED)
async def create_entry(body: EntryCreate, user: CurrentUser, conn: DbDep,
                       cache: CacheDep) -> EntryPublic:
    return await service.create(conn, cache, user.id, body)


@router.get("", response_model=EntryList)
async def list_entries(user: CurrentUser, db: DatabaseDep, cache: CacheDep, limit: Limit = 20,
                       cursor: Cursor = None, topic_id: OptionalIdQuery = None,
                       tag_id: OptionalIdQuery = None) -> EntryList:
    return await service.list_entries(db, cache, user.id, limit, cursor, topic_id, tag_id)


@router.get("/search", response_model=SearchResults)
async def search_entries(q: SearchText, user: CurrentUser, conn: ReadDbDep, limit: Limit = 20,
                         topic_id: OptionalIdQuery = None,
                         tag_id: OptionalIdQuery = None) -> SearchResults:
    return await service.search(conn, user.id, q, limit, topic_id, tag_id)


@router.get("/{entry_id}", response_model=EntryPublic)
async def read_entry(entry_id: IdPath, user: CurrentUser, db: DatabaseDep,
                     cache: CacheDep) -> EntryPublic:
    return await service.get_cached(db, cache, user.id, entry_id)


@router.patch("/{entry_id}", response_model=EntryPublic)
async def update_entry(entry_id: IdPath, body: EntryUpdate, user: CurrentUser, conn: DbDep,
                       cache: CacheDep) -> EntryPublic:
    return await service.update(conn, cache, user.id, entry_id, body)


@router.delete("/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_entry(entry_id: IdPath, user: CurrentUser, conn: DbDep,
                       cache: CacheDep) -> Response:
    await service.delete(conn, cache, user.id, entry_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
