"""我的办事: a resident signs in with an SMS code and sees their own applications and items."""
