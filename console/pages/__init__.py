"""Console pages, one blueprint per module, nested under the ``console`` blueprint."""
