"""The API surface: what each Kubernetes minor serves and accepts.

Owns the generated per-version data (served group-version-kinds, scopes, type schemas, list types
and list-map keys, patch strategies) and the hand-written behaviours schemas do not show (when
server-side apply exists, which list-map keys have apply defaults, field-validation modes), each
with its source. Both the compat planner (client side) and the emulator (server side) read it.
It does no network I/O: reading a live server's capabilities belongs to the kube client.
"""

from kubespark.apisurface.check import (
    FieldProblem,
    ProblemKind,
    check_object,
    check_value,
    prune_unknown_fields,
    resolve_kind,
)
from kubespark.apisurface.defaults import apply_defaults
from kubespark.apisurface.discovery import (
    DiscoveryDocs,
    discovery_documents,
    surface_from_discovery,
    version_document,
)
from kubespark.apisurface.history import (
    FieldHistory,
    field_history,
    first_version_with,
    introduced_in,
    optional_in,
    removed_in,
    served_in,
)
from kubespark.apisurface.load import (
    known_versions,
    load_surface,
    manifest,
    newest_version,
)
from kubespark.apisurface.model import (
    ApiSurface,
    Behaviours,
    FieldValidation,
    FieldValidationFormat,
    GroupVersionKind,
    ListType,
    Resource,
    Schema,
    SchemaKind,
    SubResource,
    TypeDef,
    TypedPatchErrorFormat,
)

__all__ = [
    "ApiSurface",
    "Behaviours",
    "DiscoveryDocs",
    "FieldHistory",
    "FieldProblem",
    "FieldValidation",
    "FieldValidationFormat",
    "GroupVersionKind",
    "ListType",
    "ProblemKind",
    "Resource",
    "Schema",
    "SchemaKind",
    "SubResource",
    "TypeDef",
    "TypedPatchErrorFormat",
    "apply_defaults",
    "check_object",
    "check_value",
    "discovery_documents",
    "field_history",
    "first_version_with",
    "introduced_in",
    "known_versions",
    "load_surface",
    "manifest",
    "newest_version",
    "optional_in",
    "prune_unknown_fields",
    "removed_in",
    "resolve_kind",
    "served_in",
    "surface_from_discovery",
    "version_document",
]
