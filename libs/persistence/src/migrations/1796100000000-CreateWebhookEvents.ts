import { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The outbox of upload events: a row is written in the statement that moves an upload to
 * `completed` or `failed`, and removed once a worker delivered it.
 */
export class CreateWebhookEvents1796100000000 implements MigrationInterface {
    name = 'CreateWebhookEvents1796100000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "webhook_events" ("id" character varying(40) NOT NULL, "upload_id" character varying(22) NOT NULL, "type" character varying(32) NOT NULL, "upload_snapshot" jsonb NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "state" character varying(16) NOT NULL DEFAULT 'pending', "attempts" integer NOT NULL DEFAULT 0, "retry_from" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "claim" uuid, "claimed_until" TIMESTAMP WITH TIME ZONE, "last_error" text, CONSTRAINT "webhook_events_state_check" CHECK ("state" IN ('pending', 'dead')), CONSTRAINT "PK_webhook_events" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "webhook_events_pending_next_attempt_at_idx" ON "webhook_events" ("next_attempt_at") WHERE "state" = 'pending'`);
        await queryRunner.query(`CREATE INDEX "webhook_events_upload_id_idx" ON "webhook_events" ("upload_id")`);
        await queryRunner.query(`ALTER TABLE "webhook_events" ADD CONSTRAINT "FK_webhook_events_upload" FOREIGN KEY ("upload_id") REFERENCES "uploads"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "webhook_events"`);
    }

}
