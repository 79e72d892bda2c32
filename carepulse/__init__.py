"""carepulse: the command line, the synthetic data generator and the report.

The warehouse itself is dbt (models/, seeds/, macros/); the models that learn live in ml/.
"""

__version__ = "0.1.0"
