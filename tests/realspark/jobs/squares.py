"""A PySpark job with a known answer: the sum of the squares of 1..100000 over 4 partitions."""

import sys

from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
total = spark.sparkContext.parallelize(range(1, 100_001), 4).map(lambda x: x * x).sum()
print(f"kubespark-answer {total}", flush=True)
print(f"kubespark-python {sys.version_info[0]}.{sys.version_info[1]}", flush=True)
# A line of stdout left open while the JVM logs (to stderr) the job it runs: the container's log
# keeps each stream's lines whole. (Spark copies this process's output to the JVM's stdout.)
sys.stdout.write("kubespark-stdout-part")
sys.stdout.flush()
spark.sparkContext.parallelize(range(4), 2).count()
sys.stdout.write(" whole\n")
sys.stdout.flush()
spark.stop()
