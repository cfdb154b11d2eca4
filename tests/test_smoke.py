import pkgutil

import integrations.platforms
from integrations.platforms import registry
from integrations.platforms.registry import all_platforms


def test_every_platform_module_registers_itself_under_its_own_name():
    modules = {
        m.name
        for m in pkgutil.iter_modules(integrations.platforms.__path__)
        if m.name not in registry._NOT_PLATFORMS
    }
    assert {"customerio", "iterable"} <= modules
    assert {p.slug for p in all_platforms()} == modules
    for platform in all_platforms():
        assert platform.__module__ == f"integrations.platforms.{platform.slug}"
