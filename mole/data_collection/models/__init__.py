"""Mole's data model, one module per theme; every model is importable from here."""
from .clocks import ClockConfig
from .clocks import ClockPhase
from .events import EntityEventRelation
from .events import EntityEventRole
from .events import Event
from .events import EventLevel
from .events import EventType
from .events import Image
from .events import ImageType
from .events import MetadataKey
from .events import MetadataValue
from .events import Note
from .fleet import Capability
from .fleet import Entity
from .fleet import EntityGroup
from .fleet import EntityState
from .fleet import EntityType
from .fleet import Mod
from .fleet import PointStyle
from .people import CapabilityUnderTest
from .people import Performer
from .people import Role
from .people import SystemConfiguration
from .people import Tester
from .people import UserProfile
from .poses import Pose
from .poses import PoseSource
from .regions import Region
from .regions import RegionType
from .reports import DataManipulator
from .reports import ExtractionField
from .reports import ExtractionSpecification
from .reports import Figure
from .reports import FigureFamily
from .reports import FigureType
from .reports import IteratedDataManipulator
from .reports import IteratedExtractionSpecification
from .reports import Iterator
from .reports import QuerySetMethod
from .reports import QuerySetSpecification
from .reports import Report
from .trials import Campaign
from .trials import Location
from .trials import Scenario
from .trials import Segment
from .trials import TestCondition
from .trials import TestMethod
from .trials import Trial
from .trials import Weather
from .triggers import ConditionVariable
from .triggers import KeyValuePair
from .triggers import OrderedTriggerResponse
from .triggers import RequestedData
from .triggers import Server
from .triggers import ServerParam
from .triggers import ServerType
from .triggers import Trigger
from .triggers import TriggerResponse

__all__ = [
    "Campaign", "Capability", "CapabilityUnderTest", "ClockConfig", "ClockPhase", "ConditionVariable",
    "DataManipulator", "Entity", "EntityEventRelation", "EntityEventRole", "EntityGroup", "EntityState",
    "EntityType", "Event", "EventLevel", "EventType", "ExtractionField", "ExtractionSpecification",
    "Figure", "FigureFamily", "FigureType", "Image", "ImageType", "IteratedDataManipulator",
    "IteratedExtractionSpecification", "Iterator", "KeyValuePair", "Location", "MetadataKey",
    "MetadataValue", "Mod", "Note", "OrderedTriggerResponse", "Performer", "PointStyle", "Pose",
    "PoseSource", "QuerySetMethod", "QuerySetSpecification", "Region", "RegionType", "Report",
    "RequestedData", "Role", "Scenario", "Segment", "Server", "ServerParam", "ServerType",
    "SystemConfiguration", "TestCondition", "TestMethod", "Tester", "Trial", "Trigger",
    "TriggerResponse", "UserProfile", "Weather",
]
