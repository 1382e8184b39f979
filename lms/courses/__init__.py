"""Course content: loading, checking and rendering the Markdown modules in courses/."""

from lms.courses.check import Problem
from lms.courses.content import Course, Item, Module, Qualification, find_asset, load_course
from lms.courses.review import check_course

__all__ = [
    "Course",
    "Item",
    "Module",
    "Problem",
    "Qualification",
    "check_course",
    "find_asset",
    "load_course",
]
