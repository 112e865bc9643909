"""User-written JSON transformations: field selections and sandboxed JSONata templates."""

from plaudit.transform.field_selection import FieldSelection
from plaudit.transform.jsonata_engine import (
    DEFAULT_LIMITS,
    CompiledTemplate,
    TemplateError,
    TemplateEvaluationError,
    TemplateLimitExceeded,
    TemplateLimits,
    TemplateSyntaxError,
    compile_template,
    shutdown_workers,
)

__all__ = [
    "DEFAULT_LIMITS",
    "CompiledTemplate",
    "FieldSelection",
    "TemplateError",
    "TemplateEvaluationError",
    "TemplateLimitExceeded",
    "TemplateLimits",
    "TemplateSyntaxError",
    "compile_template",
    "shutdown_workers",
]
