"""The minimum password length with its message in Chinese.

Django 5.2.19's MinimumLengthValidator asks its catalogue for "…at least %d characters.",
while the zh-hans catalogue it ships holds that message as "…at least %(min_length)d
characters.", so the message would reach the user in English. The other validators'
messages are translated as they are.
"""

from django.contrib.auth import password_validation


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self):
        return f"密码长度太短。密码必须包含至少 {self.min_length} 个字符。"
