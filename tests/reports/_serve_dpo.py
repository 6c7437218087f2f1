"""Serve the service with the DPO pages mounted: ``python _serve_dpo.py PORT``.

Settings come from the ``LINKAGE_SERVICE_*`` environment, as for ``linkage-service serve``.
Used by the browser end-to-end test, which runs the service as its own process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).parent))

from _report_service import dpo_app

from service.settings import Settings

if __name__ == "__main__":
    uvicorn.run(dpo_app(Settings()), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
