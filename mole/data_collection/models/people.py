"""Who tests: users in roles, and the performers whose systems are under test."""
from django.conf import settings
from django.contrib.gis.db import models

from .base import Named
from .base import nullable_description


class Role(Named):
    description = nullable_description()

    class Meta:
        ordering = ["name"]


class Performer(Named):
    """A team or vendor whose capabilities are tested."""

    description = nullable_description()

    class Meta:
        ordering = ["name"]


class CapabilityUnderTest(Named):
    description = nullable_description()
    performer = models.ForeignKey(Performer, models.CASCADE)

    class Meta:
        ordering = ["name"]


class SystemConfiguration(Named):
    """The set of capabilities a trial tests."""

    description = nullable_description()
    capabilities_under_test = models.ManyToManyField(CapabilityUnderTest)

    class Meta:
        ordering = ["name"]


class Tester(models.Model):
    """A user in one role; a user with two roles is two testers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE)
    role = models.ForeignKey(Role, models.CASCADE)

    class Meta:
        unique_together = [("user", "role")]
        ordering = ["role", "user"]

    def __str__(self) -> str:
        return f"{self.role} / {self.user}"


class UserProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="profile")
    current_role = models.ForeignKey(Role, models.CASCADE)

    def __str__(self) -> str:
        return f"profile of {self.user}"
