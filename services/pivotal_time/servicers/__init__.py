"""gRPC servicers: proto in → use case → proto out. Authentication, authorization, contract
validation, error mapping and logging happen once, in the runtime's interceptors."""

from __future__ import annotations

from google.api import httpbody_pb2
from pivotal.time.v1 import time_entry_service_pb2 as entry_pb
from pivotal.time.v1 import time_entry_service_pb2_grpc as entry_grpc
from pivotal.time.v1 import time_settings_service_pb2 as settings_pb
from pivotal.time.v1 import time_settings_service_pb2_grpc as settings_grpc
from pivotal.time.v1 import user_rate_service_pb2 as rate_pb
from pivotal.time.v1 import user_rate_service_pb2_grpc as rate_grpc
from pivotal_runtime.kit.caller import caller_of_call
from pivotal_runtime.kit.listing import add_servicers
from pivotal_runtime.kit.proto_types import date_from_proto, update_mask_of

from pivotal_time.application import messages as m
from pivotal_time.servicers import inputs

_LIST_FILTERS = ("user_id", "project_id", "task_id", "customer_id", "states", "billable")


def _entry(result):
    entry, locked_until = result
    return m.time_entry(entry, locked_until)


def _bulk(done, failures, locked_until, response):
    return response(time_entries=[m.time_entry(e, locked_until) for e in done],
                    failures=[entry_pb.BulkTimeEntryFailure(time_entry_id=i, code=c, reason=r,
                                                            message=msg)
                              for i, c, r, msg in failures])


class TimeEntryServicer(entry_grpc.TimeEntryServiceServicer):
    def __init__(self, app) -> None:
        self.entries = app.entries

    def CreateTimeEntry(self, request, context):
        created = self.entries.create(caller_of_call(), inputs.entry(request.time_entry),
                                      request.request_id)
        return entry_pb.CreateTimeEntryResponse(time_entry=m.time_entry(created, None))

    def GetTimeEntry(self, request, context):
        return entry_pb.GetTimeEntryResponse(time_entry=_entry(
            self.entries.get(caller_of_call(), request.time_entry_id)))

    def ListTimeEntries(self, request, context):
        filters = inputs.filters(request, *_LIST_FILTERS)
        filters["first"] = date_from_proto(request.start_date, "start_date")
        filters["last"] = date_from_proto(request.end_date, "end_date")
        found, token, total, locked_until = self.entries.list(
            caller_of_call(), filters, request.page_size, request.page_token, request.order_by)
        return entry_pb.ListTimeEntriesResponse(
            time_entries=[m.time_entry(e, locked_until) for e in found], next_page_token=token,
            total_size=total)

    def UpdateTimeEntry(self, request, context):
        given = request.time_entry
        return entry_pb.UpdateTimeEntryResponse(time_entry=_entry(self.entries.update(
            caller_of_call(), given.time_entry_id, inputs.entry(given),
            update_mask_of(request.update_mask, given), given.etag)))

    def DeleteTimeEntry(self, request, context):
        self.entries.delete(caller_of_call(), request.time_entry_id, request.etag)
        return entry_pb.DeleteTimeEntryResponse()

    def SubmitTimeEntry(self, request, context):
        return entry_pb.SubmitTimeEntryResponse(time_entry=_entry(self.entries.submit(
            caller_of_call(), request.time_entry_id, request.etag)))

    def ApproveTimeEntry(self, request, context):
        return entry_pb.ApproveTimeEntryResponse(time_entry=_entry(self.entries.approve(
            caller_of_call(), request.time_entry_id, request.etag)))

    def RejectTimeEntry(self, request, context):
        return entry_pb.RejectTimeEntryResponse(time_entry=_entry(self.entries.reject(
            caller_of_call(), request.time_entry_id, request.reason, request.etag)))

    def BulkSubmitTimeEntries(self, request, context):
        return _bulk(*self.entries.bulk_submit(
            caller_of_call(), request.user_id, date_from_proto(request.week_start_date,
                                                               "week_start_date"),
            request.project_id.strip(), list(request.time_entry_ids)),
            entry_pb.BulkSubmitTimeEntriesResponse)

    def BulkApproveTimeEntries(self, request, context):
        return _bulk(*self.entries.bulk_approve(
            caller_of_call(), request.user_id, date_from_proto(request.week_start_date,
                                                               "week_start_date"),
            request.project_id.strip(), list(request.time_entry_ids)),
            entry_pb.BulkApproveTimeEntriesResponse)

    def GetTimeSummary(self, request, context):
        rows, total, token = self.entries.summary(
            caller_of_call(), date_from_proto(request.start_date, "start_date"),
            date_from_proto(request.end_date, "end_date"),
            inputs.filters(request, "user_id", "project_id", "customer_id", "states"),
            inputs.group_by(request.group_by), inputs.period(request.period),
            request.page_size, request.page_token)
        return entry_pb.GetTimeSummaryResponse(rows=[m.summary_row(r) for r in rows],
                                               total=m.summary_row(total), next_page_token=token)

    def ExportTimeEntries(self, request, context):
        text = self.entries.export(
            caller_of_call(), date_from_proto(request.start_date, "start_date"),
            date_from_proto(request.end_date, "end_date"),
            inputs.filters(request, "user_id", "project_id", "customer_id", "states",
                           "billable"))
        context.set_trailing_metadata((("content-disposition",
                                        'attachment; filename="time-entries.csv"'),))
        return httpbody_pb2.HttpBody(content_type="text/csv; charset=utf-8",
                                     data=text.encode("utf-8"))


class TimeSettingsServicer(settings_grpc.TimeSettingsServiceServicer):
    def __init__(self, app) -> None:
        self.settings = app.settings

    def GetTimeSettings(self, request, context):
        return settings_pb.GetTimeSettingsResponse(time_settings=m.time_settings(
            self.settings.get(caller_of_call())))

    def UpdateTimeSettings(self, request, context):
        given = request.time_settings
        return settings_pb.UpdateTimeSettingsResponse(time_settings=m.time_settings(
            self.settings.update(caller_of_call(), given.currency_code,
                                 inputs.money(given, "default_rate"),
                                 update_mask_of(request.update_mask, given), given.etag)))

    def LockPeriod(self, request, context):
        settings, record = self.settings.move_lock(
            caller_of_call(), date_from_proto(request.locked_until, "locked_until"),
            request.reason, request.etag, lock=True, allow_unapproved=request.allow_unapproved)
        return settings_pb.LockPeriodResponse(time_settings=m.time_settings(settings),
                                              period_lock=m.period_lock(record))

    def UnlockPeriod(self, request, context):
        settings, record = self.settings.move_lock(
            caller_of_call(), date_from_proto(request.locked_until, "locked_until"),
            request.reason, request.etag, lock=False)
        return settings_pb.UnlockPeriodResponse(time_settings=m.time_settings(settings),
                                                period_lock=m.period_lock(record))

    def ListPeriodLocks(self, request, context):
        found, token, total = self.settings.locks(caller_of_call(), request.page_size,
                                                  request.page_token)
        return settings_pb.ListPeriodLocksResponse(
            period_locks=[m.period_lock(x) for x in found], next_page_token=token,
            total_size=total)


class UserRateServicer(rate_grpc.UserRateServiceServicer):
    def __init__(self, app) -> None:
        self.rates = app.user_rates

    def SetUserRate(self, request, context):
        return rate_pb.SetUserRateResponse(user_rate=m.user_rate(self.rates.set(
            caller_of_call(), request.user_id, inputs.money(request, "rate"),
            date_from_proto(request.effective_from, "effective_from"))))

    def ListUserRates(self, request, context):
        found, token, total = self.rates.list(
            caller_of_call(), request.user_id.strip(), request.currency_code.strip(),
            date_from_proto(request.effective_on, "effective_on"), request.page_size,
            request.page_token)
        return rate_pb.ListUserRatesResponse(user_rates=[m.user_rate(r) for r in found],
                                             next_page_token=token, total_size=total)


REGISTRATIONS = [
    (TimeEntryServicer, entry_grpc.add_TimeEntryServiceServicer_to_server, entry_pb),
    (TimeSettingsServicer, settings_grpc.add_TimeSettingsServiceServicer_to_server,
     settings_pb),
    (UserRateServicer, rate_grpc.add_UserRateServiceServicer_to_server, rate_pb),
]


def add_all(server, app) -> set[str]:
    return add_servicers(server, app, REGISTRATIONS)
