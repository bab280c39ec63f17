"""The page's browser-side files, cached locally so that the page works offline.

Solara's page loads its JavaScript and CSS (the Vuetify app, require.js, Font Awesome, the
grid layout) through the Solara server, which fetches each file once from a public CDN and
caches it in ``solara.server.settings.assets.proxy_cache_dir``. A classroom or CI machine
may not reach that CDN. These are npm packages, so when a package is missing from the
cache it is fetched here with ``npm pack`` (npm's own client and registry) and unpacked
where the server looks first. Set ``TRUSTSIM_APP_FETCH_ASSETS=0`` to skip this.
"""

import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

FETCH_ENV = "TRUSTSIM_APP_FETCH_ASSETS"
COMPLETE_MARK = ".trustsim-complete"
_CDN_REF = re.compile(r"(@?[a-z0-9][\w.-]*(?:/[\w.-]+)?)@(\d+\.\d+\.\d+[\w.-]*?)/")


def frontend_packages() -> list[tuple[str, str]]:
    """``(npm name, version)`` of every package the installed Solara's page loads."""
    import solara
    import solara.server.settings as server_settings
    from solara.util import IPYVUETIFY_V3

    root = Path(solara.__file__).parent
    sources = [
        root / "server" / "templates" / "solara.html.j2",
        root / "widgets" / "vue" / ("gridlayout_v3.vue" if IPYVUETIFY_V3 else "gridlayout.vue"),
    ]
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources if p.is_file())
    text += "\n" + server_settings.assets.fontawesome_path.lstrip("/")
    # The template names both Vuetify apps; only the one for this ipyvuetify is loaded.
    unused = "@widgetti/solara-vuetify-app" if IPYVUETIFY_V3 else "@widgetti/solara-vuetify3-app"
    found = {(name, version) for name, version in _CDN_REF.findall(text) if name != unused}
    return sorted(found)


def cache_dir() -> Path:
    """Where the Solara server looks for cached CDN files."""
    import solara.server.settings as server_settings

    return Path(server_settings.assets.proxy_cache_dir)


def missing_packages(cache: Path | None = None) -> list[tuple[str, str]]:
    """Front-end packages not (completely) in the cache."""
    cache = cache_dir() if cache is None else cache
    return [
        (name, version)
        for name, version in frontend_packages()
        if not (cache / f"{name}@{version}" / COMPLETE_MARK).exists()
        and not (cache / f"{name}@{version}" / "package.json").exists()
    ]


def _fetch(name: str, version: str, cache: Path, timeout: float) -> None:
    """``npm pack`` one package and unpack its files into ``cache/name@version/``."""
    with tempfile.TemporaryDirectory(prefix="trustsim-assets-") as tmp:
        subprocess.run(
            ["npm", "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=tmp,
        )
        (archive,) = Path(tmp).glob("*.tgz")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        target = cache / f"{name}@{version}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(unpacked / "package", target, dirs_exist_ok=True)
        (target / COMPLETE_MARK).touch()


def ensure_frontend_assets(timeout: float = 180.0) -> list[tuple[str, str]]:
    """Fetch the front-end packages missing from Solara's cache; return those still missing.

    Failures are logged, not raised: the server can still fetch from the CDN where the
    machine reaches it.
    """
    if os.environ.get(FETCH_ENV, "1") == "0":
        return missing_packages()
    cache = cache_dir()
    missing = missing_packages(cache)
    if missing and shutil.which("npm") is None:
        logger.warning("npm not found: cannot cache %s for offline use", missing)
        return missing
    still = []
    for name, version in missing:
        logger.warning("caching the page's front-end package %s@%s with npm", name, version)
        try:
            _fetch(name, version, cache, timeout)
        except (OSError, subprocess.SubprocessError, ValueError, tarfile.TarError) as err:
            logger.warning("could not fetch %s@%s with npm: %s", name, version, err)
            still.append((name, version))
    return still
