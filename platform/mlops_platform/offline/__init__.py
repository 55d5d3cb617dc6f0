"""Run the program without the Pulumi CLI or credentials: for the offline plan and the tests."""
