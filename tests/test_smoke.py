from integrations.platforms import registry
from integrations.platforms.registry import all_platforms
from integrations.sandbox.registry import emulators


def test_every_listed_platform_registers_itself_under_its_own_name():
    assert len(registry.PLATFORM_MODULES) == 12
    assert {p.slug for p in all_platforms()} == set(registry.PLATFORM_MODULES)
    for platform in all_platforms():
        assert platform.__module__ == f"integrations.platforms.{platform.slug}"


def test_every_platform_has_an_emulator_and_no_emulator_is_orphaned():
    assert set(emulators()) == set(registry.PLATFORM_MODULES)
