"""gRPC servicers: proto in → use case → proto out. Authentication, authorization, contract
validation, error mapping and logging happen once, in the runtime's interceptors."""

from __future__ import annotations

from pivotal.project.v1 import member_service_pb2 as member_pb
from pivotal.project.v1 import member_service_pb2_grpc as member_grpc
from pivotal.project.v1 import milestone_service_pb2 as milestone_pb
from pivotal.project.v1 import milestone_service_pb2_grpc as milestone_grpc
from pivotal.project.v1 import project_service_pb2 as project_pb
from pivotal.project.v1 import project_service_pb2_grpc as project_grpc
from pivotal.project.v1 import task_service_pb2 as task_pb
from pivotal.project.v1 import task_service_pb2_grpc as task_grpc
from pivotal_runtime.kit.caller import caller_of_call
from pivotal_runtime.kit.listing import add_servicers
from pivotal_runtime.kit.proto_types import update_mask_of

from pivotal_project.application import messages as m
from pivotal_project.servicers import inputs


class ProjectServicer(project_grpc.ProjectServiceServicer):
    def __init__(self, app) -> None:
        self.projects = app.projects

    def CreateProject(self, request, context):
        project = inputs.project(request.project)
        members = [inputs.member(x, project.currency_code, f"members[{i}]")
                   for i, x in enumerate(request.members)]
        created, team = self.projects.create(caller_of_call(), project, members,
                                             request.request_id)
        currency = created.fields.currency_code
        return project_pb.CreateProjectResponse(project=m.project(created),
                                                members=[m.member(x, currency) for x in team])

    def GetProject(self, request, context):
        return project_pb.GetProjectResponse(project=m.project(
            self.projects.get(caller_of_call(), request.project_id)))

    def ListProjects(self, request, context):
        found, token, total = self.projects.list(
            caller_of_call(), request.page_size, request.page_token,
            inputs.project_states(request.states), request.customer_id,
            request.source_quote_id, request.member_user_id)
        return project_pb.ListProjectsResponse(projects=[m.project(p) for p in found],
                                               next_page_token=token, total_size=total)

    def UpdateProject(self, request, context):
        changed = self.projects.update(
            caller_of_call(), request.project.project_id, inputs.project(request.project),
            update_mask_of(request.update_mask, request.project), request.project.etag)
        return project_pb.UpdateProjectResponse(project=m.project(changed))

    def _move(self, request, action: str):
        return m.project(self.projects.move(caller_of_call(), request.project_id, action,
                                            request.etag, request.reason))

    def ActivateProject(self, request, context):
        return project_pb.ActivateProjectResponse(project=self._move(request, "activate"))

    def HoldProject(self, request, context):
        return project_pb.HoldProjectResponse(project=self._move(request, "hold"))

    def ResumeProject(self, request, context):
        return project_pb.ResumeProjectResponse(project=self._move(request, "resume"))

    def CompleteProject(self, request, context):
        return project_pb.CompleteProjectResponse(project=self._move(request, "complete"))

    def ArchiveProject(self, request, context):
        return project_pb.ArchiveProjectResponse(project=self._move(request, "archive"))

    def GetProjectMetrics(self, request, context):
        return project_pb.GetProjectMetricsResponse(metrics=m.metrics(
            self.projects.metrics(caller_of_call(), request.project_id)))


class MemberServicer(member_grpc.MemberServiceServicer):
    def __init__(self, app) -> None:
        self.members = app.members

    def AddMember(self, request, context):
        project, added = self.members.add(
            caller_of_call(), request.project_id,
            lambda currency: inputs.member(request.member, currency), request.request_id,
            request.validate_only)
        return member_pb.AddMemberResponse(member=m.member(added, project.fields.currency_code))

    def GetMember(self, request, context):
        project, found = self.members.get(caller_of_call(), request.project_id,
                                          request.member_id)
        return member_pb.GetMemberResponse(member=m.member(found, project.fields.currency_code))

    def ListMembers(self, request, context):
        project, found, token, total = self.members.list(
            caller_of_call(), request.project_id, request.page_size, request.page_token,
            request.user_id, request.project_role)
        currency = project.fields.currency_code
        return member_pb.ListMembersResponse(members=[m.member(x, currency) for x in found],
                                             next_page_token=token, total_size=total)

    def UpdateMember(self, request, context):
        given = request.member
        project, changed = self.members.update(
            caller_of_call(), given.project_id, given.member_id,
            lambda currency: inputs.member(given, currency),
            update_mask_of(request.update_mask, given), given.etag, request.validate_only)
        return member_pb.UpdateMemberResponse(member=m.member(changed,
                                                              project.fields.currency_code))

    def RemoveMember(self, request, context):
        self.members.remove(caller_of_call(), request.project_id, request.member_id,
                            request.etag)
        return member_pb.RemoveMemberResponse()


class TaskServicer(task_grpc.TaskServiceServicer):
    def __init__(self, app) -> None:
        self.tasks = app.tasks

    def CreateTask(self, request, context):
        return task_pb.CreateTaskResponse(task=m.task(self.tasks.create(
            caller_of_call(), request.project_id, inputs.task(request.task),
            request.request_id)))

    def GetTask(self, request, context):
        return task_pb.GetTaskResponse(task=m.task(self.tasks.get(
            caller_of_call(), request.project_id, request.task_id)))

    def ListTasks(self, request, context):
        found, token, total = self.tasks.list(
            caller_of_call(), request.project_id, request.page_size, request.page_token,
            inputs.task_states(request.states), request.assignee_user_id,
            request.milestone_id, request.quote_line_item_id)
        return task_pb.ListTasksResponse(tasks=[m.task(t) for t in found],
                                         next_page_token=token, total_size=total)

    def UpdateTask(self, request, context):
        given = request.task
        return task_pb.UpdateTaskResponse(task=m.task(self.tasks.update(
            caller_of_call(), given.project_id, given.task_id, inputs.task(given),
            update_mask_of(request.update_mask, given), given.etag)))

    def DeleteTask(self, request, context):
        self.tasks.delete(caller_of_call(), request.project_id, request.task_id, request.etag)
        return task_pb.DeleteTaskResponse()

    def AssignTask(self, request, context):
        return task_pb.AssignTaskResponse(task=m.task(self.tasks.assign(
            caller_of_call(), request.project_id, request.task_id, request.user_id,
            request.etag)))


class MilestoneServicer(milestone_grpc.MilestoneServiceServicer):
    def __init__(self, app) -> None:
        self.milestones = app.milestones

    @staticmethod
    def _out(result):
        project, milestone = result
        return m.milestone(milestone, project.fields.currency_code)

    def CreateMilestone(self, request, context):
        return milestone_pb.CreateMilestoneResponse(milestone=self._out(self.milestones.create(
            caller_of_call(), request.project_id,
            lambda currency: inputs.milestone(request.milestone, currency),
            request.request_id)))

    def GetMilestone(self, request, context):
        return milestone_pb.GetMilestoneResponse(milestone=self._out(self.milestones.get(
            caller_of_call(), request.project_id, request.milestone_id)))

    def ListMilestones(self, request, context):
        project, found, token, total = self.milestones.list(
            caller_of_call(), request.project_id, request.page_size, request.page_token,
            inputs.milestone_states(request.states))
        currency = project.fields.currency_code
        return milestone_pb.ListMilestonesResponse(
            milestones=[m.milestone(x, currency) for x in found], next_page_token=token,
            total_size=total)

    def UpdateMilestone(self, request, context):
        given = request.milestone
        return milestone_pb.UpdateMilestoneResponse(milestone=self._out(self.milestones.update(
            caller_of_call(), given.project_id, given.milestone_id,
            lambda currency: inputs.milestone(given, currency),
            update_mask_of(request.update_mask, given), given.etag)))

    def DeleteMilestone(self, request, context):
        self.milestones.delete(caller_of_call(), request.project_id, request.milestone_id,
                               request.etag)
        return milestone_pb.DeleteMilestoneResponse()

    def CompleteMilestone(self, request, context):
        return milestone_pb.CompleteMilestoneResponse(milestone=self._out(
            self.milestones.complete(caller_of_call(), request.project_id,
                                     request.milestone_id, request.etag)))


REGISTRATIONS = [
    (ProjectServicer, project_grpc.add_ProjectServiceServicer_to_server, project_pb),
    (MemberServicer, member_grpc.add_MemberServiceServicer_to_server, member_pb),
    (TaskServicer, task_grpc.add_TaskServiceServicer_to_server, task_pb),
    (MilestoneServicer, milestone_grpc.add_MilestoneServiceServicer_to_server, milestone_pb),
]



def add_all(server, app) -> set[str]:
    return add_servicers(server, app, REGISTRATIONS)
