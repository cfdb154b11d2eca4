from integrations.platforms.registry import all_platforms


def test_every_platform_module_registers_itself():
    assert {p.slug for p in all_platforms()} == {"customerio", "iterable"}
