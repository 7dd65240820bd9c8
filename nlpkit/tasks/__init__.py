"""One module per task: its model head, loss, metrics and predict step."""
