"""The city portal's news: city-wide posts written here (sent down the feed) and every
township's."""
