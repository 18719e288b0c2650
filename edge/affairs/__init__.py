"""Village affairs (村务/党务/财务公开): posts, township review, the statutory schedule."""
