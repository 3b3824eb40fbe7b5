from pivotal_runtime.permissions import grants, permissions_of


def test_owner_holds_every_organization_permission_but_not_platform_ones():
    owner = permissions_of(["owner"])
    assert grants(owner, "quotes:approve")
    assert grants(owner, "invoices:issue")
    assert not grants(owner, "plans:write")


def test_member_can_log_time_but_not_approve_it():
    member = permissions_of(["member"])
    assert grants(member, "time:write")
    assert not grants(member, "time:approve")
    assert not grants(member, "quotes:approve")


def test_custom_role_permissions_from_the_token_are_added():
    granted = permissions_of(["member"], ["quotes:approve"])
    assert grants(granted, "quotes:approve")
    assert not grants(granted, "quotes:send")


def test_unknown_role_grants_nothing():
    assert not grants(permissions_of(["superuser"]), "quotes:read")
