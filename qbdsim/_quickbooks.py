"""Conductor's ``/v1/quickbooks-desktop`` routes: objects, voids, deletions, health check."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from qbdsim._company import CompanyFile
from qbdsim._errors import SimError, not_found
from qbdsim._http import Endpoints, params_of, raiser, read_body
from qbdsim._query import deleted_transactions, parse_limit, select, shape_for_list
from qbdsim._resources import RESOURCES, Resource

__all__ = ["QBD", "QuickBooksEndpoints"]

QBD = "/v1/quickbooks-desktop"


class QuickBooksEndpoints(Endpoints):
    """Request handlers for the QuickBooks Desktop resources."""

    @staticmethod
    def _resource(request: Request) -> Resource:
        resource = RESOURCES.get(request.path_params["resource"])
        if resource is None:
            raise not_found(f"Unrecognized request URL ({request.method} {request.url.path}).")
        return resource

    async def objects(self, request: Request) -> Response:
        """POST creates, GET lists: ``/v1/quickbooks-desktop/{resource}``."""
        try:
            res = self._resource(request)
            body = await read_body(request) if request.method == "POST" else {}
        except SimError as error:
            return await self.handle(request, raiser(error))
        if request.method == "POST":
            return await self.company_call(
                request, f"create {res.path}", lambda f: f.create(res.path, body), write=True
            )
        params = params_of(request)
        url = f"{QBD}/{res.path}"
        company_id = request.headers.get("conductor-end-user-id")

        def list_objects(file: CompanyFile) -> dict[str, Any]:
            shape = shape_for_list(res, params)
            limit = parse_limit(params, paginated=res.paginated)
            if not res.paginated:
                matches = select(file, res, params)
                data = matches if limit is None else matches[:limit]
                return {"objectType": "list", "url": url, "data": [shape(o) for o in data]}
            pager = self.sim.companies[str(company_id)].pager
            cursor = params.get("cursor")
            assert limit is not None
            if cursor:
                page, next_cursor, remaining = pager.next(file, res, cursor[-1], limit)
            else:
                page, next_cursor, remaining = pager.first(res, select(file, res, params), limit)
            return {
                "objectType": "list",
                "url": url,
                "data": [shape(o) for o in page],
                "nextCursor": next_cursor,
                "remainingCount": remaining,
                "hasMore": next_cursor is not None,
            }

        return await self.company_call(request, f"list {res.path}", list_objects, write=False)

    async def object(self, request: Request) -> Response:
        """GET retrieves, POST updates, DELETE deletes: ``.../{resource}/{id}``."""
        object_id = request.path_params["object_id"]
        try:
            res = self._resource(request)
            body = await read_body(request) if request.method == "POST" else {}
            if request.method == "POST" and not res.updatable:
                raise not_found(f"Unrecognized request URL (POST {request.url.path}).")
            if request.method == "DELETE" and not res.deletable:
                raise not_found(f"Unrecognized request URL (DELETE {request.url.path}).")
        except SimError as error:
            return await self.handle(request, raiser(error))
        if request.method == "POST":
            return await self.company_call(
                request,
                f"update {res.path}",
                lambda f: f.update(res.path, object_id, body),
                write=True,
            )
        if request.method == "DELETE":
            return await self.company_call(
                request, f"delete {res.path}", lambda f: f.delete(res.path, object_id), write=True
            )

        def retrieve(file: CompanyFile) -> dict[str, Any]:
            obj = file.get(res.path, object_id)
            if obj is None:
                raise not_found(
                    f"QBD Request Error (500): The {res.qb_name} with id {object_id!r} could not "
                    "be found in QuickBooks."
                )
            return obj

        return await self.company_call(request, f"retrieve {res.path}", retrieve, write=False)

    async def void(self, request: Request) -> Response:
        """POST ``.../{resource}/{id}/void``."""
        object_id = request.path_params["object_id"]
        try:
            res = self._resource(request)
            if not res.voidable:
                raise not_found(f"Unrecognized request URL (POST {request.url.path}).")
        except SimError as error:
            return await self.handle(request, raiser(error))
        return await self.company_call(
            request, f"void {res.path}", lambda f: f.void(res.path, object_id), write=True
        )

    async def deleted(self, request: Request) -> Response:
        """GET ``/v1/quickbooks-desktop/deleted-transactions`` (not paginated)."""
        params = params_of(request)

        def list_deleted(file: CompanyFile) -> dict[str, Any]:
            return {
                "objectType": "list",
                "url": f"{QBD}/deleted-transactions",
                "data": deleted_transactions(file, params),
            }

        return await self.company_call(
            request, "list deleted-transactions", list_deleted, write=False
        )

    async def health_check(self, request: Request) -> Response:
        """GET ``/v1/quickbooks-desktop/health-check`` (queued like any QuickBooks request)."""
        started = time.perf_counter()

        def check(file: CompanyFile) -> dict[str, Any]:
            del file
            return {"duration": round((time.perf_counter() - started) * 1000, 3), "status": "ok"}

        return await self.company_call(request, "health-check", check, write=False)

    async def unknown(self, request: Request) -> Response:
        """Any other ``/v1`` path: Conductor's 404."""
        error = not_found(f"Unrecognized request URL ({request.method} {request.url.path}).")
        return await self.handle(request, raiser(error))
