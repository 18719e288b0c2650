"""The front page: choose (and remember) my township and village."""
