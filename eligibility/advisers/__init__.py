"""What advisers use besides the model admin: drafts and publishing, scenarios, the review
queue."""
