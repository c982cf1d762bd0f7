"""Test support shared by test folders (fixtures, helpers); not tests themselves."""
