"""County department officers at central: their queue, an application's file, decisions."""
