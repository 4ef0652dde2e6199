curl -sS https://shop.example.com/api/orders -H 'Content-Type: application/json' --data @- < order.json > response.json 2>&1
