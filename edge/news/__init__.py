"""News (我的城市 / 我的村): short posts by central, the township and its villages."""
