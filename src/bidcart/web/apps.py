from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "bidcart.web"
    label = "web"
