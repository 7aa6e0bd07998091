from __future__ import annotations

from fastapi import APIRouter, Response, status

from tcclog.core.deps import CacheDep, CurrentUser, DbDep, ReadDbDep
from tcclog.core.types import Cursor, IdPath, Limit
from tcclog.topics import service
from tcclog.topics.schemas import TopicCreate, TopicList, TopicPublic, TopicUpdate

router = APIRouter(prefix="/topics", tags=["topics"])


@router.post("", response_model=TopicPublic, status_code=status.HTTP_201_CREATED)
async def create_topic(body: TopicCreate, user: CurrentUser, conn: DbDep,
                     cache: CacheDep) -> TopicPublic:
    return await service.create(conn, cache, user.id, body)


@router.get("", response_model=TopicList)
async def list_topics(user: CurrentUser, conn: ReadDbDep, limit: Limit = 50,
                    cursor: Cursor = None) -> TopicList:
    return await service.list_topics(conn, user.id, limit, cursor)


@router.get("/{topic_id}", response_model=TopicPublic)
async def read_topic(topic_id: IdPath, user: CurrentUser, conn: ReadDbDep) -> TopicPublic:
    return await service.get_owned_or_404(conn, user.id, topic_id)


@router.patch("/{topic_id}", response_model=TopicPublic)
async def update_topic(topic_id: IdPath, body: TopicUpdate, user: CurrentUser, conn: DbDep,
                     cache: CacheDep) -> TopicPublic:
    return await service.update(conn, cache, user.id, topic_id, body)


@router.delete("/{topic_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_topic(topic_id: IdPath, user: CurrentUser, conn: DbDep,
                       cache: CacheDep) -> Response:
    await service.delete(conn, cache, user.id, topic_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
