"""Third-party WeChat crypto test vectors, copied with their sources.

Values come from the public test suites and samples named in each ``source`` field (Tencent's
WXBizMsgCrypt sample as copied in charlesXu86/Chatbot_CN; w7corp/easywechat; godcong/wego;
fastwego/offiaccount; wechatpy/wechatpy).
"""

from __future__ import annotations

MP_DECRYPT = [
    {
        "source": "charlesXu86/Chatbot_CN Chatbot_Web/impl/weixin/Sample.py (verbatim copy of Tencent WXBizMsgCrypt Sample.py, 公众平台); expected plaintext: ilyydy/cf-openai src/platform/wechat/wechat.test.ts",
        "token": "spamtest",
        "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "app_id": "wx2c2769f8efd9abc2",
        "timestamp": "1409735669",
        "nonce": "1320562132",
        "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
        "encrypt": "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=",
        "plaintext": "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>",
    },
    {
        "source": "w7corp/easywechat tests/Kernel/EncryptorTest.php (also 3.x tests/Encryption/EncryptionEncryptorTest.php)",
        "token": "pamtest",
        "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "app_id": "wxb11529c136998cb6",
        "timestamp": "1458300676",
        "nonce": "260774613",
        "msg_signature": "4f3ad57b6989f09f4eb392acce4f9e93942ed890",
        "encrypt": "rTNFcsut4LfGuAFKEUVVpwcaCOTJzOd9twZdIW910jb3k+iicx2uvhttIZ3Qg9Qgty3BEF2xbOrz6boTfb30dMomcgrkTqdFPwnhqbk+kIQ7rZiwny9D7NUrTgA5kpX3KsZvrXzUZyP2x9YOlxbgm572lmxKvM7HAQQhIQ/p6HBmoY30bGXFK0BtIu1pW9TjhOYrLQoU18nWYjWqDA1ynkmOytpv7QRI1P1+0NoxL0q2zO1DgeSvnE8CZGo/o5Ap/WHK5W2RAsinpzN4/LjPnmB6U01I5XCoJoC0GK/yMZycd2Oh8Nq6+wBkC1U85oy0ktOY4nLvsQMLrourmMGdZHuTbqpeJ8Ao/5PRYJ+WBvRUwPfGKBL2+2IKZF49vAJqkcGWSHGE76ZN2erXeuNazf/o9o3lIE3q739o4c8t9QGPe31GT2Go/rOz1BsrASwvauNulCh+++yz+CQzBIuikA==",
        "plaintext": "<xml><URL><![CDATA[http://wechat.laravel.so/server]]></URL><ToUserName><![CDATA[asdasdasd]]></ToUserName><FromUserName><![CDATA[asdasdasdsadasd]]></FromUserName><CreateTime>1234567898</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>12345</MsgId></xml>",
    },
    {
        "source": "godcong/wego crypt/bizmsg_test.go (text3)",
        "token": "godcong",
        "aes_key": "TNwHN28RXXoyVxkMCUEqKuCL08eBpCKgWZTkWNVnGLu",
        "app_id": "wxbafed7010e0f4531",
        "timestamp": "1524421916",
        "nonce": "457570794",
        "msg_signature": "8c0f8d64124367eccb5f292dad91955eb0cd12d8",
        "encrypt": "8YHvi544ufqOnTylGkwEkCtB/jf8THDLV7v9Q5FctW/Z4Y0Ied5B1Ch0mKhoMJpXylnqlfOFAovhUA8WDBhQSUparcfbx/WPMLUXXJRjgbtsde4fPII0vFyAeaiwlNeoiL17zhYRISdlMd55elzVxAYG6VQ+89MOcZ0p5YwjKwZfTXPLl2ZO5ADW6tVqjFld3DfGGNOP3yRtMaWqrCQo4ASk5bpOpCuYTd5p3dXygkKv5LwQyb+MB/xdt+Z4MeVWN0Wke+HE29iJWikvKUV9d0pNU81R+8PrTrsGs/4gtI/Nl5w5JKoxwZKSYhpVzoJvgvxu+z9UkoN/81BYY/AoPkI51fcRjcAXrViDN0TR+/EeDFd0KKnuoP6X8AtTm0JD3w68dSEjmT9U8CNFxydJsF3bYh37D7LeKuhXZDMA7vqTV2PF7LfiFer8UkcGnVNP",
        "plaintext": "<xml><MsgType><![CDATA[text]]></MsgType><MsgId>6547342274956593269</MsgId><ToUserName><![CDATA[oLyBi0hSYhggnD-kOIms0IzZFqrc]]></ToUserName><FromUserName><![CDATA[gh_56870ffd193b]]></FromUserName><CreateTime>1524421916</CreateTime><Content><![CDATA[问题问题问题]]></Content></xml>",
    },
    {
        "source": "godcong/wego crypt/bizmsg_test.go (text2)",
        "token": "godcong",
        "aes_key": "TNwHN28RXXoyVxkMCUEqKuCL08eBpCKgWZTkWNVnGLu",
        "app_id": "wxbafed7010e0f4531",
        "timestamp": "1524416866",
        "nonce": "1632909179",
        "msg_signature": "08d28bc8bb189eea2d9b704d9781be2057fd4f30",
        "encrypt": "lAqgapbsGq3hpZC29u5OJLMOwSGZCDfCWsKFV1M7Ig2ljZMMxAB9MFqpsJItJM1BjYI4ER0lmjuFYK9X4KNR4uA8J3Gng/50vZwTsHAD2TSOkkIhAXpFczAQlRFN/r790jjg6VS0ZrfUChYapVl5CvGdqDNFRskNIVX+ikXjvRM0V3ZPKE5CZp9f/JRk/iVskKOKNK9p8DApDppngz5+y2gtWWtO2NCap2v9GI1Gs5GqtoRSzC5TbOeEM/YO4lsB651PIZrGM4Dq417C8yDY8/RHMLxwt+ogoeeYq2a7+/HCmLeY8YhswhxUBuV80VNlMFVJxTfY+GBfxHoz7gRH/MxBJ/NvT8LiLbfenuA/BPiggWA/vIzNFY0XO07Q6ZZKkGZCCMa104s+V/mfca+OIuYAse9I+B4um/2nF1Y1Bso=",
        "plaintext": "<xml><MsgType></MsgType><MsgId>6547320585371747546</MsgId><ToUserName><![CDATA[oLyBi0hSYhggnD-kOIms0IzZFqrc]]></ToUserName><FromUserName><![CDATA[gh_56870ffd193b]]></FromUserName><CreateTime>1524416866</CreateTime><Content><![CDATA[你好啊你好啊你好啊]]></Content></xml>",
    },
]

# fastwego/offiaccount's ciphertext does not follow the standard layout (a 10-byte random prefix,
# zero fill instead of the length and app id): a correct receiver refuses it.
NON_CONFORMING = {
    "source": "fastwego/offiaccount util/aes_crypto_test.go",
    "aes_key": "itZDdxGBnFRaBPmFD12CcYalbatKW1fLtuIfQw8iQ57",
    "app_id": "wx3808f4e98b0e3a57",
    "encrypt": "70nIsuWJcN2F4vcDSXJrRbs1q9h+FbMrgoEKP3q30K4CWX9OiCrEDBZtXb0w7RneUVYq8OHo3Q492jU8Zw8mDw9dPTFjLkfxXiQinzIAtXLiOblGmrZtDWseKcg7HvHMqHzb0gnf4lG9J1eO7KY5HnanX7OB7c4TOg53Q2LYPqLOLlLV9wpBSoL9+kKwNPTMJNB1DCpai9+I+Fh4kUIwQok84Bf1PNNEStRqlxlh7tLNOeScd4UmGWi8U2rQNvcfANyuQixy1fIHz5WVRIbTGMB8uUF4j4mhbATqPOaxv+fQxgeE7zutvOmBE2mjIzmBwcoSZHxQAyyGsQQo52E1pqfuUJgr15zepEdC2+qopQdYbKkonOMzSxG36DDsGbmrmW53BRXKvtgHDeR7qdmW7kG407zPI/7Yrg+kKCqlNVY=",
}

# wechatpy/wechatpy tests/test_crypto.py test_encrypt_message: a deterministic encryption with a
# fixed 16-byte random prefix.
DETERMINISTIC = {
    "source": "wechatpy/wechatpy tests/test_crypto.py (test_encrypt_message, PrpCrypto.get_random_string mocked)",
    "token": "123456",
    "aes_key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    "app_id": "wx49f0ab532d5d035a",
    "timestamp": "1411525903",
    "nonce": "461056294",
    "msg_signature": "407518b7649e86ef23978113f92d27afa9296533",
    "encrypt": "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3",
    "plaintext": "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>",
    "random": "1234567890123456",
}
