"""Check a qingdan bundle (``qingdan export --format zip``) against its manifest, offline.

Usage: python check_bundle.py 台账包.zip — prints "ok: N files match manifest.json" and exits 0,
or names every member that is missing, altered or not listed, and exits 1. Standard library only.
"""
import hashlib
import json
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as bundle:
    manifest = json.loads(bundle.read("manifest.json"))
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    names = set(bundle.namelist()) - {"manifest.json"}
    problems = [f"missing: {p}" for p in sorted(set(listed) - names)]
    problems += [f"not in manifest: {p}" for p in sorted(names - set(listed))]
    for path in sorted(set(listed) & names):
        digest = hashlib.sha256(bundle.read(path)).hexdigest()
        if digest != listed[path] or (path.startswith("attachments/") and path[12:] != digest):
            problems.append(f"altered: {path}")
print("\n".join(problems) if problems else f"ok: {len(listed)} files match manifest.json")
sys.exit(1 if problems else 0)
