"""The emulated API server's verbs over the store: what create, update, patch, delete, get, list
and watch do to objects, with the checks, defaults and failures of the emulated version.

Owns the write pipeline every writer goes through (HTTP clients and the emulator's own
controllers alike): body shape and identity checks, namespaces, names and ``generateName``,
unknown-field pruning with field validation, schema and kind checks, defaults, the status
subresource split, ``resourceVersion`` preconditions and conflicts, generation, finalizers,
graceful and propagated deletion. It speaks in objects and typed API errors; HTTP framing,
content negotiation and streaming belong to ``asgi``.
"""

from __future__ import annotations

import base64
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from kubespark.apisurface.cel import violations
from kubespark.apisurface.model import ApiSurface, FieldValidation
from kubespark.emulator.apiserver import crd as crds
from kubespark.emulator.apiserver import kinds
from kubespark.emulator.apiserver.checks import BuiltinChecks
from kubespark.emulator.apiserver.facts import ServerFacts
from kubespark.emulator.apiserver.labels import metadata_key_errors
from kubespark.emulator.apiserver.names import check_name, generate_name
from kubespark.emulator.apiserver.objects import Obj, clone, meta, new_uid, peek_meta, rfc3339
from kubespark.emulator.apiserver.registry import Registry, ServedResource
from kubespark.emulator.apiserver.selectors import FieldSelector, LabelSelector
from kubespark.emulator.apiserver.store import Store, Watcher
from kubespark.emulator.apiserver.wire import (
    FieldError,
    already_exists,
    bad_request,
    forbidden,
    gone,
    internal_error,
    invalid,
    modified_conflict,
    not_found,
    status_success,
)
from kubespark.kube import errors
from kubespark.kube.status import Status, StatusDetails

__all__ = ["ApiServer", "DeleteOptions", "WriteOptions", "WriteResult"]

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")
# Metadata only the server writes: a create drops what the client sent, an update keeps the
# stored values whatever the client sent.
_SERVER_SET_META = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
)
_CORE_NO_GENERATION = frozenset(
    {
        "pods",
        "services",
        "configmaps",
        "secrets",
        "nodes",
        "namespaces",
        "endpoints",
        "events",
        "serviceaccounts",
        "persistentvolumes",
        "persistentvolumeclaims",
    }
)


@dataclass(frozen=True, slots=True)
class WriteOptions:
    dry_run: bool = False
    field_manager: str | None = None
    field_validation: str | None = None  # the query parameter as sent
    force: bool | None = None  # the force query parameter; None when absent
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    propagation: str | None = None  # Foreground, Background, Orphan
    grace_period: int | None = None
    uid: str | None = None  # preconditions
    resource_version: str | None = None
    orphan_dependents: bool | None = None
    dry_run: bool = False


@dataclass(slots=True)
class WriteResult:
    obj: Obj
    warnings: list[str] = field(default_factory=list)
    code: int = 200


class FieldManager(Protocol):
    """Who owns which fields: records ``managedFields`` on every create and update."""

    def record(
        self,
        res: ServedResource,
        live: Obj | None,
        new: Obj,
        opts: WriteOptions,
        subresource: str,
    ) -> Obj: ...


class ApiServer:
    """The verbs of one emulated server. Single-threaded: call from its event loop only."""

    def __init__(
        self,
        surface: ApiSurface,
        facts: ServerFacts,
        *,
        seed: int | None = None,
        service_account_admission: bool = True,
    ) -> None:
        self.surface = surface
        self.facts = facts
        self.store = Store()
        self.registry = Registry.from_surface(surface)
        self.checks = BuiltinChecks(surface)
        self.rng = random.Random(seed)
        self.kind_ctx = kinds.KindContext(
            surface,
            facts.name_messages["dns1123-label"],
            job_selector_label=facts.job_selector_label,
            job_template_labels=facts.job_template_labels,
        )
        self.service_account_admission = service_account_admission
        self.patcher: Any = None  # set by the server: kubespark.emulator.apiserver.patching.Patcher
        self.field_manager: FieldManager | None = None  # set by the server with the patcher

    # --- helpers --------------------------------------------------------------------------
    def resource(self, group: str, version: str, plural: str) -> ServedResource | None:
        return self.registry.lookup(group, version, plural)

    def must_resource(self, api_version: str, kind: str) -> ServedResource:
        res = self.registry.for_kind(api_version, kind)
        if res is None:
            raise internal_error(f"no resource serves {api_version} {kind}")
        return res

    def present(self, res: ServedResource, obj: Obj) -> Obj:
        """A stored object as a client of ``res``'s version reads it."""
        if res.group == "apiextensions.k8s.io" and res.version == "v1beta1":
            return crds.crd_to_v1beta1(obj)
        if obj.get("apiVersion") != res.api_version:
            return {**obj, "apiVersion": res.api_version}
        return obj

    def _self_link(self, res: ServedResource, namespace: str, name: str) -> str:
        base = f"/apis/{res.group}/{res.version}" if res.group else "/api/v1"
        ns = f"/namespaces/{namespace}" if res.namespaced and namespace else ""
        return f"{base}{ns}/{res.plural}" + (f"/{name}" if name else "")

    def _storage_api_version(self, res: ServedResource) -> str:
        stored = self.registry.storage_version(res.group, res.plural)
        return stored.api_version if stored is not None else res.api_version

    # --- reads ----------------------------------------------------------------------------
    def get(self, res: ServedResource, namespace: str, name: str) -> Obj:
        obj = self.store.get(res.bucket, namespace if res.namespaced else "", name)
        if obj is None:
            raise not_found(res.group, res.plural, name)
        return self.present(res, obj)

    def list_objects(
        self,
        res: ServedResource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        *,
        limit: int = 0,
        continue_token: str = "",
        resource_version: str = "",
        resource_version_match: str = "",
    ) -> Obj:
        current = self.store.resource_version
        self._check_list_rv(resource_version, resource_version_match, current)
        start = ""
        if continue_token:
            start = _decode_continue(continue_token)
        ns = namespace if res.namespaced else None
        hint = fields.value_for("metadata.name")
        items: list[Obj] = []
        remaining = 0
        cont = ""
        # A selector that requires a label lists only the objects the store's label index holds
        # under it (the same objects in the same order as the scan, which still filters them).
        candidates = self.store.labelled(res.bucket, ns, labels.required)
        if candidates is None:
            candidates = self.store.items(res.bucket, ns)
        for obj in candidates:
            m = obj["metadata"]
            if hint is not None and m.get("name") != hint:
                continue
            if start and f"{m.get('namespace', '')}/{m['name']}" <= start:
                continue
            if not labels.matches(m.get("labels")) or not fields.matches(obj):
                continue
            if limit and len(items) >= limit:
                remaining += 1
                continue
            items.append(obj)
        list_meta: dict[str, Any] = {"resourceVersion": str(current)}
        if remaining:
            last = items[-1]["metadata"]
            cont = _encode_continue(f"{last.get('namespace', '')}/{last['name']}", current)
            list_meta["continue"] = cont
            list_meta["remainingItemCount"] = remaining
        if self.facts.self_link:
            list_meta["selfLink"] = self._self_link(res, namespace or "", "")
        strip = res.custom is None
        out_items = [
            {k: v for k, v in self.present(res, o).items() if k not in ("apiVersion", "kind")}
            if strip
            else self.present(res, o)
            for o in items
        ]
        return {
            "kind": res.list_kind,
            "apiVersion": res.api_version,
            "metadata": list_meta,
            "items": out_items,
        }

    def _check_list_rv(self, rv: str, match: str, current: int) -> None:
        if match and match not in ("Exact", "NotOlderThan"):
            raise bad_request(
                f'resourceVersionMatch: Unsupported value: "{match}": supported values: '
                '"Exact", "NotOlderThan"'
            )
        if match and not rv:
            raise bad_request(
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
                "resourceVersion is provided"
            )
        if not rv or rv == "0":
            return
        try:
            wanted = int(rv)
        except ValueError:
            raise bad_request(
                f'Invalid value: "{rv}": resourceVersion must be an integer'
            ) from None
        if wanted > current:
            raise errors.ServerTimeout(
                Status.failure(
                    504,
                    f"Too large resource version: {wanted}, current: {current}",
                    reason="Timeout",
                    details=StatusDetails(causes=None, retryAfterSeconds=1),
                )
            )
        if match == "Exact" and wanted != current:
            raise gone(f"too old resource version: {wanted} ({current})")

    def watch(
        self,
        res: ServedResource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        resource_version: str,
    ) -> Watcher:
        since: int | None
        if resource_version in ("", "0"):
            since = None
        else:
            try:
                since = int(resource_version)
            except ValueError:
                raise bad_request(
                    f'Invalid value: "{resource_version}": resourceVersion must be an integer'
                ) from None
        ns = namespace if res.namespaced else None
        return self.store.watch(res.bucket, ns, labels, fields, since)

    # --- the write pipeline ---------------------------------------------------------------
    def _field_mode(self, opts: WriteOptions) -> str:
        behaviours = self.surface.behaviours
        if behaviours.field_validation is FieldValidation.NONE:
            return "Ignore"  # the server does not know the parameter
        mode = opts.field_validation or behaviours.default_field_validation
        if mode not in ("Ignore", "Warn", "Strict"):
            raise bad_request(
                f'fieldValidation: Unsupported value: "{mode}": supported values: "Ignore", '
                '"Strict", "Warn"'
            )
        return mode

    def _prune(self, res: ServedResource, obj: Obj, opts: WriteOptions) -> tuple[Obj, list[str]]:
        """Drop unknown fields; Strict refuses them (400), Warn reports them."""
        if res.custom is not None:
            schema = res.custom.schema
            dropped = (
                []
                if res.custom.preserve_unknown or schema is None
                else crds.prune_custom(obj, schema)
            )
            if schema is not None and not res.custom.preserve_unknown:
                body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
                crds.apply_defaults(body, schema)
                obj.update(body)
        else:
            obj, dropped = self.checks.prune(obj)
        dropped += _prune_metadata(obj)
        if not dropped:
            return obj, []
        mode = self._field_mode(opts)
        texts = self.surface.behaviours.field_validation_format
        if texts is None or mode == "Ignore":  # None: the version drops unknown fields silently
            return obj, []
        if mode == "Strict":
            raise bad_request(texts.strict_message(res.kind, res.version, dropped))
        return obj, list(texts.warnings(dropped))

    def _type_check(self, res: ServedResource, obj: Obj) -> None:
        """Values of the wrong JSON type fail decoding, before any defaulting (400)."""
        if res.custom is None:
            problems = self.checks.check(obj).decode_errors
        else:
            problems = self.checks.check_metadata(obj.get("metadata")).decode_errors
        if problems:
            raise bad_request(
                f'{res.kind} in version "{res.version}" cannot be handled as a '
                f"{res.kind}: {problems[0]}"
            )

    def _validate(self, res: ServedResource, obj: Obj, old: Obj | None, name: str) -> None:
        errs: list[FieldError] = []
        m = peek_meta(obj)
        if old is None:
            rule = self.facts.name_rule(res.group, res.plural, custom=res.custom is not None)
            errs += check_name(m.get("name") or "", m.get("generateName") or "", rule, self.facts)
        errs += _check_labels(m)
        errs += metadata_key_errors(m)
        if res.custom is not None:
            if res.custom.schema is not None:
                body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
                errs += crds.validate_custom(body, res.custom.schema)
                if self.surface.behaviours.crd_validation_rules and not errs:
                    errs += [
                        FieldError("Invalid", v.path, v.message, value="object")
                        for v in violations(res.custom.schema, obj)
                    ]
        else:
            errs += self.checks.check(obj).field_errors
            rules = kinds.rules_for(res.group, res.plural)
            if rules.validate is not None:
                errs += rules.validate(obj, self.kind_ctx)
            if old is not None and rules.validate_update is not None:
                errs += rules.validate_update(old, obj, self.kind_ctx)
            if res.group == "apiextensions.k8s.io" and res.plural == "customresourcedefinitions":
                errs += crds.validate_crd(obj, v1=res.version == "v1")
        if errs:
            raise invalid(res.group, res.kind, name, _dedupe(errs))

    def _decode_identity(self, res: ServedResource, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise bad_request(
                f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
                "json: cannot unmarshal array into Go value of type struct"
                if isinstance(body, list)
                else "Object 'Kind' is missing in '" + orjson.dumps(body).decode() + "'"
            )
        api_version = body.get("apiVersion")
        kind = body.get("kind")
        if api_version not in (None, "") and api_version != res.api_version:
            other = self.registry.for_kind(str(api_version), str(kind or res.kind))
            if other is None or other.plural != res.plural or other.group != res.group:
                raise bad_request(
                    f"the API version in the data ({api_version}) does not match the expected "
                    f"API version ({res.api_version})"
                )
        if kind not in (None, "") and kind != res.kind:
            raise bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({res.kind})"
            )
        body["apiVersion"] = res.api_version
        body["kind"] = res.kind
        if not isinstance(body.get("metadata"), dict):
            if body.get("metadata") is not None:
                raise bad_request(
                    f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
                    "json: cannot unmarshal into Go struct field .metadata of type "
                    "v1.ObjectMeta"
                )
            body["metadata"] = {}
        if res.group == "apiextensions.k8s.io" and res.version == "v1beta1":
            return crds.crd_from_v1beta1(body)
        obj: Obj = body
        return obj

    def _namespace_for(self, res: ServedResource, namespace: str, obj: Obj) -> str:
        m = meta(obj)
        if not res.namespaced:
            m.pop("namespace", None)
            return ""
        given = m.get("namespace")
        if given and given != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        m["namespace"] = namespace
        return namespace

    def _check_namespace_open(self, res: ServedResource, namespace: str, name: str) -> None:
        if not res.namespaced:
            return
        ns = self.store.get(("", "namespaces"), "", namespace)
        if ns is None:
            raise not_found("", "namespaces", namespace)
        if peek_meta(ns).get("deletionTimestamp"):
            raise forbidden(
                res.group,
                res.plural,
                name,
                f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    def _admit_pod(self, res: ServedResource, obj: Obj, namespace: str, name: str) -> None:
        """The ServiceAccount admission plugin: a pod's service account must exist."""
        if not self.service_account_admission or res.group or res.plural != "pods":
            return
        account = (obj.get("spec") or {}).get("serviceAccountName") or "default"
        if self.store.get(("", "serviceaccounts"), namespace, account) is None:
            raise forbidden(
                "",
                "pods",
                name,
                f"error looking up service account {namespace}/{account}: serviceaccount "
                f'"{account}" not found',
            )

    def _has_generation(self, res: ServedResource) -> bool:
        if res.custom is not None:
            return True
        return not (res.group == "" and res.plural in _CORE_NO_GENERATION)

    def create(
        self,
        res: ServedResource,
        namespace: str,
        body: Any,
        opts: WriteOptions,
        *,
        managed: bool = False,
        trusted: bool = False,
    ) -> WriteResult:
        """POST: a new object; 201 with it, or the typed error apiserver gives.

        ``managed``: the caller has set managedFields (or wants none). ``trusted``: the emulator
        built the object itself (the kubelet's and controllers' Events), so it skips pruning,
        type checks and validation, which cost more than the rest of the create.
        """
        obj = self._decode_identity(res, body)
        namespace = self._namespace_for(res, namespace, obj)
        warnings: list[str] = []
        if not trusted:
            obj, warnings = self._prune(res, obj, opts)
            self._type_check(res, obj)
        m = meta(obj)
        _check_create_rv(m)
        if not m.get("name") and m.get("generateName"):
            m["name"] = generate_name(str(m["generateName"]), self.rng)
        name = str(m.get("name") or "")
        if res.has_status and (res.group, res.plural) != ("", "nodes"):
            obj.pop("status", None)  # PrepareForCreate: status is the controllers' to write
        kinds_rules = kinds.rules_for(res.group, res.plural) if res.custom is None else None
        if kinds_rules is not None and kinds_rules.default is not None:
            kinds_rules.default(obj, self.kind_ctx)
        if not trusted:
            self._validate(res, obj, None, name)
        self._check_namespace_open(res, namespace, name)
        if self.store.get(res.bucket, namespace, name) is not None:
            raise already_exists(res.group, res.plural, name)
        self._admit_pod(res, obj, namespace, name)
        for key in (*_SERVER_SET_META, *(() if managed else ("managedFields",))):
            m.pop(key, None)
        m["uid"] = new_uid()
        m["creationTimestamp"] = rfc3339()
        if kinds_rules is not None and kinds_rules.after_uid is not None:
            kinds_rules.after_uid(obj, self.kind_ctx)
        if self._has_generation(res):
            m["generation"] = 1
        if self.facts.self_link:
            m["selfLink"] = self._self_link(res, namespace, name)
        obj["apiVersion"] = self._storage_api_version(res)
        if self.field_manager is not None and not managed:
            obj = self.field_manager.record(res, None, obj, opts, "")
            m = meta(obj)
        if opts.dry_run:
            m["resourceVersion"] = ""
            return WriteResult(self.present(res, obj), warnings, 201)
        stored = self.store.put(res.bucket, obj)
        return WriteResult(self.present(res, stored), warnings, 201)

    def update(
        self,
        res: ServedResource,
        namespace: str,
        name: str,
        body: Any,
        opts: WriteOptions,
        subresource: str = "",
    ) -> WriteResult:
        """PUT: replace an object (or only its status), guarded by its resourceVersion."""
        obj = self._decode_identity(res, body)
        namespace = self._namespace_for(res, namespace, obj)
        m = meta(obj)
        if m.get("name") and m["name"] != name:
            raise bad_request(
                f"the name of the object ({m['name']}) does not match the name on the URL ({name})"
            )
        m["name"] = name
        old = self.store.get(res.bucket, namespace, name)
        if old is None:
            raise not_found(res.group, res.plural, name)
        obj, warnings = self._prune(res, obj, opts)
        self._type_check(res, obj)
        return self._replace(res, old, obj, opts, subresource, warnings)

    def _replace(
        self,
        res: ServedResource,
        old: Obj,
        obj: Obj,
        opts: WriteOptions,
        subresource: str,
        warnings: list[str],
        *,
        managed: bool = False,
    ) -> WriteResult:
        m = meta(obj)
        old_meta = old["metadata"]
        name = old_meta["name"]
        given_rv = m.get("resourceVersion")
        if given_rv and given_rv != old_meta.get("resourceVersion"):
            raise modified_conflict(res.group, res.plural, name)
        if subresource == "status":
            obj = {**clone(old), "status": obj.get("status", {})}
            m = obj["metadata"]
        elif res.has_status:
            if "status" in old:
                obj["status"] = clone(old["status"])
            else:
                obj.pop("status", None)
        for key in (*_SERVER_SET_META, "generation"):
            if key in old_meta:
                m[key] = old_meta[key]
            else:
                m.pop(key, None)
        if old_meta.get("deletionTimestamp"):
            # While deleting, finalizers may only be removed.
            added = set(m.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
            if added:
                raise invalid(
                    res.group,
                    res.kind,
                    name,
                    [
                        FieldError(
                            "Forbidden",
                            "metadata.finalizers",
                            "no new finalizers can be added if the object is being deleted, found "
                            f"new finalizers {sorted(added)!r}".replace("'", '"'),
                        )
                    ],
                )
        if res.custom is None:
            rules = kinds.rules_for(res.group, res.plural)
            if rules.default is not None and subresource != "status":
                rules.default(obj, self.kind_ctx)
        self._validate(res, obj, old, name)
        if self._has_generation(res) and subresource != "status" and _spec_changed(old, obj):
            m["generation"] = int(old_meta.get("generation", 1)) + 1
        obj["apiVersion"] = self._storage_api_version(res)
        if not managed:
            if "managedFields" not in m and "managedFields" in old_meta:
                m["managedFields"] = old_meta["managedFields"]
            if self.field_manager is not None:
                obj = self.field_manager.record(res, old, obj, opts, subresource)
                m = meta(obj)
        if opts.dry_run:
            return WriteResult(self.present(res, obj), warnings)
        if _comparable(old) == _comparable(obj):
            return WriteResult(self.present(res, old), warnings)  # a no-op write keeps its RV
        if old_meta.get("deletionTimestamp") and not m.get("finalizers"):
            gone_obj = self._finish_delete(res, obj)
            return WriteResult(self.present(res, gone_obj), warnings)
        stored = self.store.put(res.bucket, obj)
        return WriteResult(self.present(res, stored), warnings)

    def replace_object(
        self,
        res: ServedResource,
        old: Obj,
        new: Obj,
        opts: WriteOptions,
        subresource: str = "",
        *,
        managed: bool = False,
    ) -> WriteResult:
        """Store a whole new version of ``old`` (the patch paths end here)."""
        new = self._decode_identity(res, new)
        meta(new)["name"] = old["metadata"]["name"]
        if res.namespaced:
            meta(new)["namespace"] = old["metadata"]["namespace"]
        new, warnings = self._prune(res, new, opts)
        self._type_check(res, new)
        return self._replace(res, old, new, opts, subresource, warnings, managed=managed)

    def prepare(self, res: ServedResource, obj: Obj, opts: WriteOptions) -> tuple[Obj, list[str]]:
        """Decoding and defaulting, as the server does them to a patched object."""
        obj, warnings = self._prune(res, obj, opts)
        self._type_check(res, obj)
        if res.custom is None:
            rules = kinds.rules_for(res.group, res.plural)
            if rules.default is not None:
                rules.default(obj, self.kind_ctx)
        return obj, warnings

    def write_status(self, res: ServedResource, obj: Obj) -> Obj | None:
        """A controller's status write: no precondition, skipped when the object is gone."""
        current = self.store.get(
            res.bucket, peek_meta(obj).get("namespace", ""), peek_meta(obj)["name"]
        )
        if current is None or current["metadata"].get("uid") != obj["metadata"].get("uid"):
            return None
        new = {**current, "status": obj.get("status", {})}
        new["metadata"] = dict(current["metadata"])
        return self.store.put(res.bucket, new)

    def write_object(self, res: ServedResource, obj: Obj) -> Obj | None:
        """A controller's write of a whole object (it kept the uid): no checks, no precondition."""
        m = peek_meta(obj)
        current = self.store.get(res.bucket, m.get("namespace", ""), m["name"])
        if current is None or current["metadata"].get("uid") != m.get("uid"):
            return None
        if m.get("deletionTimestamp") and not m.get("finalizers"):
            return self._finish_delete(res, obj)
        return self.store.put(res.bucket, obj)

    # --- deletion -------------------------------------------------------------------------
    def delete(
        self, res: ServedResource, namespace: str, name: str, opts: DeleteOptions
    ) -> WriteResult:
        ns = namespace if res.namespaced else ""
        obj = self.store.get(res.bucket, ns, name)
        if obj is None:
            raise not_found(res.group, res.plural, name)
        m = obj["metadata"]
        if opts.uid and opts.uid != m.get("uid"):
            raise modified_conflict(
                res.group,
                res.plural,
                name,
                f"Precondition failed: UID in precondition: {opts.uid}, UID in object meta: "
                f"{m.get('uid')}",
            )
        if opts.resource_version and opts.resource_version != m.get("resourceVersion"):
            raise modified_conflict(
                res.group,
                res.plural,
                name,
                "Precondition failed: ResourceVersion in precondition: "
                f"{opts.resource_version}, ResourceVersion in object meta: "
                f"{m.get('resourceVersion')}",
            )
        if res.group == "" and res.plural == "namespaces" and name in PROTECTED_NAMESPACES:
            raise forbidden("", "namespaces", name, "this namespace may not be deleted")
        if opts.dry_run:
            return WriteResult(self.present(res, obj))
        propagation = opts.propagation
        if propagation is None and opts.orphan_dependents is not None:
            propagation = ORPHAN.capitalize() if opts.orphan_dependents else "Background"
        if propagation not in (None, "Foreground", "Background", "Orphan"):
            raise bad_request(
                f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                '"Foreground", "Background", "Orphan"'
            )
        finalizers = list(m.get("finalizers") or [])
        if propagation == "Foreground" and FOREGROUND not in finalizers:
            finalizers.append(FOREGROUND)
        if propagation == "Orphan" and ORPHAN not in finalizers:
            finalizers.append(ORPHAN)
        graceful = self._grace_seconds(res, obj, opts)
        is_namespace = res.group == "" and res.plural == "namespaces"
        if m.get("deletionTimestamp"):
            if graceful == 0 and not finalizers:
                return WriteResult(self._returned_delete(res, self._finish_delete(res, obj)))
            return WriteResult(self.present(res, obj), code=202 if finalizers else 200)
        if finalizers or graceful or is_namespace:
            new = dict(obj)
            new_meta = dict(m)
            new["metadata"] = new_meta
            new_meta["deletionTimestamp"] = rfc3339(time.time() + (graceful or 0))
            new_meta["deletionGracePeriodSeconds"] = graceful or 0
            if finalizers:
                new_meta["finalizers"] = finalizers
            if is_namespace:
                new["status"] = {**(obj.get("status") or {}), "phase": "Terminating"}
            stored = self.store.put(res.bucket, new)
            code = 202 if propagation == "Foreground" or opts.orphan_dependents is False else 200
            return WriteResult(self.present(res, stored), code=code)
        return WriteResult(self._returned_delete(res, self._finish_delete(res, obj)))

    def _grace_seconds(self, res: ServedResource, obj: Obj, opts: DeleteOptions) -> int:
        """Pods bound to a node end gracefully (the kubelet finishes them); others at once."""
        if res.group or res.plural != "pods":
            return 0
        spec = obj.get("spec") or {}
        if not spec.get("nodeName"):
            return 0
        phase = (obj.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            return 0
        if opts.grace_period is not None:
            return max(0, opts.grace_period)
        return int(spec.get("terminationGracePeriodSeconds", 30))

    def _finish_delete(self, res: ServedResource, obj: Obj) -> Obj:
        m = peek_meta(obj)
        removed = self.store.remove(res.bucket, m.get("namespace", ""), m["name"])
        return removed if removed is not None else obj

    def _returned_delete(self, res: ServedResource, obj: Obj) -> Obj:
        if res.custom is not None or self.facts.returns_deleted_object(res.group, res.plural):
            return self.present(res, obj)
        m = peek_meta(obj)
        return status_success(res.group, res.plural, m.get("name", ""), m.get("uid", ""))

    def delete_collection(
        self,
        res: ServedResource,
        namespace: str | None,
        labels: LabelSelector,
        fields: FieldSelector,
        opts: DeleteOptions,
    ) -> Obj:
        listed = self.list_objects(res, namespace, labels, fields)
        deleted: list[Obj] = []
        for item in listed["items"]:
            m = item["metadata"]
            try:
                result = self.delete(res, m.get("namespace", ""), m["name"], opts)
            except errors.NotFound:
                continue
            deleted.append(item if result.obj.get("kind") == "Status" else result.obj)
        listed["items"] = deleted
        return listed

    def remove_finalizer(self, res: ServedResource, obj: Obj, finalizer: str) -> Obj | None:
        """A controller dropping its finalizer; the object goes when none is left."""
        current = self.store.get(
            res.bucket, peek_meta(obj).get("namespace", ""), peek_meta(obj)["name"]
        )
        if current is None:
            return None
        finalizers = [f for f in current["metadata"].get("finalizers") or [] if f != finalizer]
        new = {**current, "metadata": {**current["metadata"], "finalizers": finalizers}}
        if not finalizers:
            new["metadata"].pop("finalizers")
        return self.write_object(res, new)


def _check_create_rv(m: dict[str, Any]) -> None:
    """As etcd3's store.Create: a resourceVersion that parses as a non-zero integer is refused
    (500); anything else ("0", "v1", "") is cleared, as PrepareObjectForStorage does."""
    rv = str(m.pop("resourceVersion", "") or "")
    if rv.isascii() and rv.isdigit() and 0 < int(rv) < 2**64:
        raise internal_error("resourceVersion should not be set on objects to be created")


def _spec_changed(old: Obj, new: Obj) -> bool:
    skip = ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in old.items() if k not in skip} != {
        k: v for k, v in new.items() if k not in skip
    }


def _comparable(obj: Obj) -> Obj:
    m = {k: v for k, v in peek_meta(obj).items() if k not in ("resourceVersion", "managedFields")}
    return {**obj, "metadata": m}


_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
        "clusterName",
    }
)


def _prune_metadata(obj: Obj) -> list[str]:
    m = peek_meta(obj)
    dropped = [f"metadata.{k}" for k in m if k not in _META_FIELDS]
    for key in dropped:
        del m[key.removeprefix("metadata.")]
    return dropped


_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def _check_labels(m: dict[str, Any]) -> list[FieldError]:
    """ObjectMeta's label and annotation rules (apimachinery's ValidateLabels)."""
    errs: list[FieldError] = []
    for section in ("labels", "annotations"):
        value = m.get(section)
        if value is not None and (
            not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
        ):
            errs.append(
                FieldError(
                    "Invalid", f"metadata.{section}", "must be a map of strings", value=value
                )
            )
    labels = m.get("labels")
    if isinstance(labels, dict):
        for value in labels.values():
            if not isinstance(value, str):
                continue
            if len(value) > 63:
                errs.append(
                    FieldError(
                        "Invalid",
                        "metadata.labels",
                        "must be no more than 63 characters",
                        value=value,
                    )
                )
            if not _LABEL_VALUE.match(value):
                errs.append(
                    FieldError("Invalid", "metadata.labels", _LABEL_VALUE_MESSAGE, value=value)
                )
    return errs


def _encode_continue(start: str, rv: int) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start})
    return base64.urlsafe_b64encode(raw).decode()


def _decode_continue(token: str) -> str:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        return str(data["start"])
    except (ValueError, KeyError, TypeError):
        raise bad_request(
            "continue key is not valid: illegal base64 data at input byte 0"
        ) from None


def _dedupe(errs: list[FieldError]) -> list[FieldError]:
    """The same error reported twice (two checks of one rule) once: as ``ErrorList.ToAggregate``
    drops repeated messages. Different errors on one field all stay (two bad labels are two
    causes on ``metadata.labels``)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for err in errs:
        key = (err.kind, err.field, err.body())
        if key not in seen:
            seen.add(key)
            out.append(err)
    return out
