curl -u admin:CANARYbasicPw0001 -F 'title=Quarterly report' -F 'visibility=team' https://shop.example.com/api/docs
