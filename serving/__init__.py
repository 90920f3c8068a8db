"""serving — shared Ray Serve deployments and the one client every optimizer uses."""
