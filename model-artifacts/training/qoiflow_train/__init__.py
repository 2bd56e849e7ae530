"""QoIFlow training package: data reader, ADMN model, training, export, evaluation."""
