"""The stored versions the engine works with, compiled once per process: schemes (their
`transitions` machines and lookup tables), the organisation (who acts where) and its
working-day calendar. Keyed by version ids, so a process sees a load made elsewhere."""

from __future__ import annotations

from sqlalchemy import Connection

from engine.machines import CompiledScheme, compile_scheme
from engine.permissions import OrgIndex
from storage import versions as stored
from workflow.calendar import WorkingCalendar
from workflow.errors import EnvironmentProblem, NotFound, UsageError
from workflow.org import Organisation
from workflow.scheme import Level, Scheme


class Versions:
    """Caches of compiled schemes, the organisation and calendars, by stored version."""

    def __init__(self) -> None:
        self.schemes: dict[int, CompiledScheme] = {}
        self.org: OrgIndex | None = None
        self.calendars: dict[tuple[int, str | None], WorkingCalendar] = {}

    def calendar(self, org: OrgIndex, timezone: str | None = None) -> WorkingCalendar:
        """The working-day calendar of an organisation version (national + its overrides),
        counting days in `timezone` (a scheme's; the calendar's own when None)."""
        key = (org.version_id, timezone)
        found = self.calendars.get(key)
        if found is None:
            zone = {"timezone": timezone} if timezone else {}
            found = self.calendars[key] = WorkingCalendar(
                org.org.calendar, compiled=org.calendar, **zone
            )
        return found

    def compiled(self, conn: Connection, version_id: int) -> CompiledScheme:
        """The compiled scheme of a stored version (built once per process)."""
        found = self.schemes.get(version_id)
        if found is None:
            row = stored.scheme_version(conn, version_id)
            if row is None:
                raise NotFound(
                    f"no stored scheme version {version_id}",
                    code="scheme.no_version",
                    version=version_id,
                )
            scheme = Scheme.model_validate_json(row.compiled)
            found = self.schemes[version_id] = compile_scheme(version_id, row.version, scheme)
        return found

    def org_index(self, conn: Connection, version_id: int | None = None) -> OrgIndex:
        """The organisation as last loaded; rebuilt only when its version changed."""
        if version_id is None:
            version_id = stored.latest_org_id(conn)
        if version_id is None:
            raise EnvironmentProblem("no organisation is loaded", code="environment.no_org")
        if self.org is None or self.org.version_id != version_id:
            found = stored.org_version(conn, version_id)
            if found is None:
                raise EnvironmentProblem(
                    f"organisation version {version_id} is missing",
                    code="environment.no_org",
                )
            self.org = OrgIndex.build(
                version_id, Organisation.model_validate_json(found.compiled), found.calendar
            )
        return self.org

    def loaded_schemes(self, conn: Connection) -> list[CompiledScheme]:
        """The newest version of every loaded scheme, by name."""
        found = [self.compiled(conn, vid) for vid in stored.newest_scheme_ids(conn)]
        return sorted(found, key=lambda cs: cs.name)

    def role_levels(self, conn: Connection) -> tuple[int, dict[str, Level]]:
        """Every role of every loaded scheme with its level (a role name means one level
        in all of them), and a key that changes whenever a scheme is loaded: what decides
        where a person acts outside any one project (ideas, the report, forms)."""
        schemes = self.loaded_schemes(conn)
        levels: dict[str, Level] = {}
        for cs in schemes:
            levels.update(cs.levels)
        return -max((cs.version_id for cs in schemes), default=0), levels

    def scheme_for_new(self, conn: Connection, name: str | None) -> CompiledScheme:
        """The scheme a new project follows: the newest version of `name`; without a name,
        the only loaded scheme (with several, the choice must be made)."""
        if name is not None:
            return self.latest_scheme(conn, name)
        schemes = self.loaded_schemes(conn)
        if len(schemes) > 1:
            names = [cs.name for cs in schemes]
            raise UsageError(
                f"several schemes are loaded ({', '.join(names)}): say which one the "
                "project follows",
                code="scheme.choose",
                schemes=names,
            )
        return self.latest_scheme(conn)

    def latest_scheme(self, conn: Connection, name: str | None = None) -> CompiledScheme:
        """The newest version of scheme `name` (of the last loaded scheme when None)."""
        version_id = stored.latest_scheme_id(conn, name)
        if version_id is None:
            if name is None:
                raise EnvironmentProblem("no scheme is loaded", code="environment.no_scheme")
            raise NotFound(
                f"no scheme named {name!r} is loaded", code="scheme.unknown", scheme=name
            )
        return self.compiled(conn, version_id)
