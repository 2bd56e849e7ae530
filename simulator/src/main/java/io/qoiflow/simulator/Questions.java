package io.qoiflow.simulator;

import io.qoiflow.records.QaPair;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * NuScenes-QA style scene questions with answers from a fixed vocabulary: yes/no, 0-10, class names
 * and statuses. One question of each type per sample: exist, count, object, status, comparison.
 * "nearest" and "closer" refer to the horizontal distance from the sensor rig.
 */
public final class Questions {
  public static final List<String> TYPES =
      List.of("exist", "count", "object", "status", "comparison");

  private Questions() {}

  /** The answer vocabulary, in a fixed order. */
  public static List<String> vocabulary() {
    List<String> v = new ArrayList<>(List.of("yes", "no"));
    for (int i = 0; i <= 10; i++) {
      v.add(Integer.toString(i));
    }
    for (ObjectClass c : ObjectClass.values()) {
      v.add(c.label);
    }
    for (Status s : Status.values()) {
      v.add(s.label);
    }
    return v;
  }

  public static List<QaPair> generate(Scene scene, SplittableRandom r) {
    List<QaPair> out = new ArrayList<>(5);
    out.add(exist(scene, r));
    out.add(count(scene, r));
    out.add(object(scene, r));
    out.add(status(scene, r));
    out.add(comparison(scene, r));
    return out;
  }

  private static QaPair pair(String type, String q, String a) {
    return QaPair.newBuilder().setQuestionType(type).setQuestion(q).setAnswer(a).build();
  }

  private static String yn(boolean b) {
    return b ? "yes" : "no";
  }

  private static ObjectClass someClass(Scene s, SplittableRandom r) {
    // Half the time a class that is present, so that "yes" and "no" are balanced.
    if (r.nextBoolean()) {
      return s.objects.get(r.nextInt(s.objects.size())).cls;
    }
    return ObjectClass.ALL.get(r.nextInt(ObjectClass.ALL.size()));
  }

  private static int countOf(Scene s, ObjectClass c, Status st) {
    int n = 0;
    for (SimObject o : s.objects) {
      if ((c == null || o.cls == c) && (st == null || o.status == st)) {
        n++;
      }
    }
    return n;
  }

  private static Status someStatus(SplittableRandom r) {
    return Status.values()[r.nextInt(Status.values().length)];
  }

  static QaPair exist(Scene s, SplittableRandom r) {
    ObjectClass c = someClass(s, r);
    if (r.nextBoolean()) {
      return pair("exist", "are there any " + c.plural + " ?", yn(countOf(s, c, null) > 0));
    }
    Status st = someStatus(r);
    return pair(
        "exist", "is there a " + st.label + " " + c.label + " ?", yn(countOf(s, c, st) > 0));
  }

  static QaPair count(Scene s, SplittableRandom r) {
    switch (r.nextInt(3)) {
      case 0 -> {
        ObjectClass c = someClass(s, r);
        return pair(
            "count",
            "how many " + c.plural + " are there ?",
            Integer.toString(countOf(s, c, null)));
      }
      case 1 -> {
        Status st = someStatus(r);
        return pair(
            "count",
            "how many objects are " + st.label + " ?",
            Integer.toString(countOf(s, null, st)));
      }
      default -> {
        return pair("count", "how many objects are there ?", Integer.toString(s.objects.size()));
      }
    }
  }

  static QaPair object(Scene s, SplittableRandom r) {
    if (s.objects.size() > 1 && r.nextBoolean()) {
      SimObject far = s.objects.get(0);
      for (SimObject o : s.objects) {
        if (o.range() > far.range()) {
          far = o;
        }
      }
      return pair("object", "what is the object farthest from the sensor ?", far.cls.label);
    }
    return pair("object", "what is the nearest object ?", s.target().cls.label);
  }

  static QaPair status(Scene s, SplittableRandom r) {
    List<SimObject> unique = new ArrayList<>();
    for (SimObject o : s.objects) {
      if (countOf(s, o.cls, null) == 1) {
        unique.add(o);
      }
    }
    if (!unique.isEmpty() && r.nextBoolean()) {
      SimObject o = unique.get(r.nextInt(unique.size()));
      return pair("status", "what is the status of the " + o.cls.label + " ?", o.status.label);
    }
    return pair("status", "what is the status of the nearest object ?", s.target().status.label);
  }

  static QaPair comparison(Scene s, SplittableRandom r) {
    List<SimObject> unique = new ArrayList<>();
    for (SimObject o : s.objects) {
      if (countOf(s, o.cls, null) == 1) {
        unique.add(o);
      }
    }
    if (unique.size() >= 2) {
      int i = r.nextInt(unique.size());
      int j = (i + 1 + r.nextInt(unique.size() - 1)) % unique.size();
      SimObject a = unique.get(i);
      SimObject b = unique.get(j);
      if (r.nextBoolean()) {
        return pair(
            "comparison",
            "is the " + a.cls.label + " closer than the " + b.cls.label + " ?",
            yn(a.range() < b.range()));
      }
      return pair(
          "comparison",
          "are the " + a.cls.label + " and the " + b.cls.label + " in the same status ?",
          yn(a.status == b.status));
    }
    Status x = someStatus(r);
    Status y = Status.values()[(x.ordinal() + 1 + r.nextInt(2)) % 3];
    return pair(
        "comparison",
        "are there more " + x.label + " objects than " + y.label + " objects ?",
        yn(countOf(s, null, x) > countOf(s, null, y)));
  }
}
