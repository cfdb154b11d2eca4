"""Campaign models arrive with assignment approval and campaign sends."""
