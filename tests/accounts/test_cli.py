from accounts.services import authenticate


def test_users_create(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Dana@UMFT.example.org",
            "--password",
            "long-enough-1",
            "--institution",
            "umft",
            "--role",
            "manager",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "manager dana@umft.example.org at UMFT" in result.output
    user = authenticate("dana@umft.example.org", "long-enough-1")
    assert user is not None and user.role == "manager" and user.institution.code == "UMFT"


def test_users_create_defaults_to_member(runner):
    result = runner.invoke(
        args=["users", "create", "m@uvt.example.org", "--password", "long-enough-1", "--institution", "UVT"]
    )
    assert result.exit_code == 0
    assert authenticate("m@uvt.example.org", "long-enough-1").role == "member"


def test_users_create_reports_errors(runner):
    bad_institution = runner.invoke(
        args=["users", "create", "x@a.example.org", "--password", "long-enough-1", "--institution", "XX"]
    )
    assert bad_institution.exit_code != 0 and "unknown institution" in bad_institution.output
    bad_role = runner.invoke(
        args=[
            "users",
            "create",
            "x@a.example.org",
            "--password",
            "long-enough-1",
            "--institution",
            "UVT",
            "--role",
            "root",
        ]
    )
    assert bad_role.exit_code != 0
    short = runner.invoke(args=["users", "create", "x@a.example.org", "--password", "short", "--institution", "UVT"])
    assert short.exit_code != 0 and "at least 8" in short.output
