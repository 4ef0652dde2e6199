# reproduce the failing import (don't forget: the token expires hourly)
export SHOP=https://shop.example.com
curl --sil --show-err --no-buffer \
  --url-query 'since=2026-10-10 13:00' --url-query '+raw=a%2Fb' \
  -H "X-Api-Key: AKIAIOSFODNN7CANARY2" \
  --data-binary @- \
  https://shop.example.com/api/import <<'JSON'
{"rows": [{"sku": "MUG-001", "qty": 3}]}
JSON
