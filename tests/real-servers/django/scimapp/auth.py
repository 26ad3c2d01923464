"""Bearer-token authentication for the SCIM endpoints (django-scim2 leaves it to the project)."""
import hmac
import os


class ServiceAccount:
    is_authenticated = True
    is_anonymous = False


class BearerTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.expected = "Bearer " + os.environ["SCIM_TOKEN"]

    def __call__(self, request):
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), self.expected.encode()):
            request.user = ServiceAccount()
        return self.get_response(request)
