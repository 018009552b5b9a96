#!/usr/bin/env bash
# `make run`: the whole offline path, step by step, on a fresh demo federation (README.md).
set -euo pipefail
DEMO=${DEMO:-demo}
REPORT=${REPORT:-tests/data/green-tea-8.json}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

rm -rf "$DEMO"
# The inspector's device keeps its pinned root and installed trust data here (not in ./yilu-data).
export YILU_DATA_DIR="$DEMO/inspector"

step "1. Build a demo federation: a root, registries for CN, RU and KZ, three labs, agreements"
yilu demo init "$DEMO"

step "2. The CN food lab signs the test report $(basename "$REPORT") and prints it as a QR code"
# The reference reports carry fixed dates and expire: sign a copy dated today, so that the
# demo works on any date (yilu demo report: sampled a week ago, valid as long as the original).
yilu demo report "$REPORT" > "$DEMO/report.json"
yilu issue "$DEMO/report.json" --lab "$DEMO/labs/cn-food" --qr-png "$DEMO/certificate.png" --json > "$DEMO/certificate.json"
field() { python -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$DEMO/certificate.json" "$1"; }
ID=$(field id)
echo "certificate id: $ID"
python -c 'import json, sys; q = json.load(open(sys.argv[1]))["qr"]; print(f"QR text ({len(q)} characters): {q[:100]} ...")' "$DEMO/certificate.json"
echo "QR image: $DEMO/certificate.png"

step "3. A Kazakh border inspector installs the agency's bundle once, pinning the federation root"
yilu trust install "$DEMO/bundle.ylb" --root "$DEMO/root/root-keys.json"

step "4. The inspector photographs the QR: read it back from the image and verify offline"
yilu verify "$DEMO/certificate.png" --country KZ

step "5. The lab revokes the certificate (e.g. the batch was found contaminated)"
cp "$DEMO/bundle.ylb" "$DEMO/bundle-before-revocation.ylb"
yilu revoke "$ID" --lab "$DEMO/labs/cn-food"

step "6. The registries and the root republish their lists; the inspector installs the new bundle"
yilu demo refresh "$DEMO"
yilu trust install "$DEMO/bundle.ylb"

step "7. The same QR, verified again by the Kazakh inspector: it must now be rejected"
if yilu verify "$DEMO/certificate.png" --country KZ; then
  echo "unexpected: the revoked certificate was accepted" >&2; exit 1
fi

step "8. Someone hands the inspector the old bundle, from before the revocation: it is refused"
if yilu trust install "$DEMO/bundle-before-revocation.ylb"; then
  echo "unexpected: an older bundle was installed over a newer one" >&2; exit 1
fi
yilu trust show

echo
echo "Done: accepted while valid, rejected (REVOKED) once the lab revoked it, and the revocation"
echo "cannot be rolled back by replaying an older bundle."
