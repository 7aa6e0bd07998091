"""A thin boto3 S3 wrapper: streamed multipart uploads, streamed downloads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from tcclog.core.config import Settings

PART_SIZE = 8 * 1024 * 1024  # S3 minimum is 5 MiB for every part but the last


class Storage:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        secret = settings.s3_secret_access_key
        key_id = settings.s3_access_key_id
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=key_id.get_secret_value() if key_id else None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                          connect_timeout=5, read_timeout=60),
        )

    def ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)

    def upload_stream(self, key: str, stream: IO[bytes],
                      content_type: str = "application/octet-stream",
                      on_chunk: Any = None) -> int:
        """Multipart upload read from `stream` chunk by chunk; aborted on any error.
        Returns the number of bytes written."""
        upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=key,
                                                     ContentType=content_type)
        upload_id = upload["UploadId"]
        parts, total, number = [], 0, 1
        try:
            while True:
                chunk = _read_full(stream, PART_SIZE)
                if not chunk and number > 1:
                    break
                if on_chunk is not None:
                    on_chunk(chunk)
                part = self.client.upload_part(Bucket=self.bucket, Key=key, PartNumber=number,
                                               UploadId=upload_id, Body=chunk)
                parts.append({"ETag": part["ETag"], "PartNumber": number})
                total += len(chunk)
                number += 1
                if len(chunk) < PART_SIZE:
                    break
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                  MultipartUpload={"Parts": parts})
        except BaseException:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return total

    def iter_object(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def copy(self, source: str, dest: str) -> None:
        self.client.copy_object(Bucket=self.bucket, Key=dest,
                                CopySource={"Bucket": self.bucket, "Key": source})

    def delete(self, *keys: str) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            if batch:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})

    def list_keys(self, prefix: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix):
            out.extend(page.get("Contents", []))
        return out

    def ping(self) -> bool:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return True
        except Exception:
            return False


def _read_full(stream: IO[bytes], size: int) -> bytes:
    """Read up to `size` bytes, looping over short reads (pipes return partial chunks)."""
    buf = bytearray()
    while len(buf) < size:
        chunk = stream.read(size - len(buf))
        if not chunk:
            break
        buf.extend(chunk)
    return bytes(buf)
