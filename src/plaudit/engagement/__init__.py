"""The engagement domain: employees, groups, recognition, points, rewards, surveys, milestones."""
