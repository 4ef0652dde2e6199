curl --json '{"items": [' --json '{"sku": "MUG-001"}]}' -X wHat https://shop.example.com/api/batch \
