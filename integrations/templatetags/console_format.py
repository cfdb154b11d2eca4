"""Template filters over integrations.formatting: {% load console_format %}."""

from django import template

from integrations import formatting

register = template.Library()


@register.filter
def percent(rate):
    """{{ usage.error_rate|percent }} → "0.0 %"."""
    return formatting.percent(rate)


@register.filter
def ms(value):
    """{{ usage.median_ms|ms }} → "28 ms"."""
    return formatting.milliseconds(value)


@register.filter
def counted(count, nouns: str):
    """{{ run.api_calls|counted:"API call" }} → "1 API call"; "child,children" for an
    irregular plural."""
    singular, _, plural = nouns.partition(",")
    return formatting.counted(count, singular, plural or None)


@register.filter
def noun(count, nouns: str):
    """{{ usage.calls|noun:"API call" }} → "API call" or "API calls"."""
    singular, _, plural = nouns.partition(",")
    return formatting.noun(count, singular, plural or None)
