import { MigrationInterface, QueryRunner } from "typeorm";

export class IndexAssemblingUploads1795559194533 implements MigrationInterface {
    name = 'IndexAssemblingUploads1795559194533'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE INDEX "uploads_assembling_updated_at_idx" ON "uploads"  ("updated_at") WHERE "status" = 'assembling'`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."uploads_assembling_updated_at_idx"`);
    }

}
