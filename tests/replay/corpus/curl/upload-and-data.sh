curl -T invoice.pdf -d note=x https://shop.example.com/files/
